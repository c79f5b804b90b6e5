//! Telling "the package registry is unreachable" apart from a real failure, for tests that
//! install npm or PyPI tools first and are skipped (with a message) only when offline.

/// Phrases npm, pip and the OS print when a registry cannot be reached, as opposed to a
/// broken script or toolchain.
const NETWORK_MARKERS: &[&str] = &[
    "ENOTFOUND",
    "EAI_AGAIN",
    "ECONNREFUSED",
    "ECONNRESET",
    "ETIMEDOUT",
    "ENETUNREACH",
    "EHOSTUNREACH",
    "network request",
    "request to https://registry.npmjs.org",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Failed to establish a new connection",
    "NewConnectionError",
    "ConnectTimeoutError",
    "Max retries exceeded",
    "No matching distribution found",
    "Could not find a version that satisfies",
    "Network is unreachable",
    "Connection refused",
    "timed out",
];

/// True if an installer's output says it could not reach npm or PyPI.
pub fn unreachable(output: &str) -> bool {
    NETWORK_MARKERS.iter().any(|m| output.contains(m))
}

#[cfg(test)]
mod tests {
    #[test]
    fn recognises_offline_installs_only() {
        assert!(super::unreachable(
            "npm ERR! request to https://registry.npmjs.org/x failed, reason: getaddrinfo ENOTFOUND"
        ));
        assert!(super::unreachable(
            "ERROR: No matching distribution found for componentize-py==0.25.1"
        ));
        assert!(!super::unreachable("SyntaxError: Unexpected token"));
    }
}
