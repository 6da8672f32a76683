import Foundation

/// The attack the demo replays, and the noise around it, as the sources deliver them: Microsoft Graph security alerts
/// v2 (Defender for Office 365, Entra ID Protection, Defender for Endpoint) and a Check Point firewall's CEF. Pure:
/// the times are relative to `now`, the names come from the tenant.
///
/// The story: a phishing mail reaches a user (Office 365); minutes later her account signs in from an unfamiliar
/// address (Entra ID); then Defender sees ransomware behaviour on her workstation `ws-0042`; the firewall sees the
/// workstation's address connect to a known command-and-control server. Around it: a resend of the phishing alert
/// (duplicate), an informational alert, and the weekly vulnerability scan the SOC has a suppression rule for.
struct AttackScenario: Sendable {
    let tenant: String
    let now: Date

    /// The victim's workstation: its host name is the device id the SOC isolates.
    static let victimDevice = "ws-0042"
    /// Its address on the office network: what links the firewall's event to the workstation.
    static let victimAddress = "10.20.0.42"
    /// The command-and-control server the workstation beacons to.
    static let c2Address = "203.0.113.99"
    /// The vulnerability scanner the SOC's suppression rule names.
    static let scannerAddress = "10.20.0.250"
    /// Defender's machine id of the victim's workstation (the simulator maps the host name to it).
    static let victimMachineID = "5d3b0f0c8a1e4c7b9f2a6e1d0c9b8a7f6e5d4c3b"

    var victimUser: String { "anna.jansen@\(tenant).example" }

    /// `now` minus `minutes`, as Graph writes times.
    private func graphTime(minutesAgo minutes: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: now.addingTimeInterval(-minutes * 60))
    }

    private func millis(minutesAgo minutes: Double) -> Int64 {
        Int64((now.addingTimeInterval(-minutes * 60).timeIntervalSince1970 * 1000).rounded())
    }

    /// Defender for Office 365: a mail with a malicious link was delivered to the user (and is a resend's subject).
    var phishing: String {
        """
        {"id": "fa-\(tenant)-phish-1", "serviceSource": "microsoftDefenderForOffice365", "severity": "medium", "category": "InitialAccess",
         "title": "Email messages containing malicious URL delivered", "createdDateTime": "\(graphTime(minutesAgo: 14))",
         "mitreTechniques": ["T1566.002"],
         "evidence": [{"@odata.type": "#microsoft.graph.security.analyzedMessageEvidence", "recipientEmailAddress": "\(victimUser)",
                       "senderIp": "198.51.100.7", "subject": "Factuur 2026-118 (dropped before storage)"}]}
        """
    }

    /// Entra ID Protection: the same account signs in with unfamiliar properties.
    var riskySignIn: String {
        """
        {"id": "ad-\(tenant)-risky-1", "serviceSource": "azureAdIdentityProtection", "severity": "medium", "category": "InitialAccess",
         "title": "Unfamiliar sign-in properties", "createdDateTime": "\(graphTime(minutesAgo: 9))", "mitreTechniques": ["T1078.004"],
         "evidence": [{"@odata.type": "#microsoft.graph.security.userEvidence", "userAccount": {"userPrincipalName": "\(victimUser)"}},
                      {"@odata.type": "#microsoft.graph.security.ipEvidence", "ipAddress": "203.0.113.66"}]}
        """
    }

    /// Defender for Endpoint: ransomware behaviour on the user's workstation, with its interface addresses.
    var ransomware: String {
        """
        {"id": "da-\(tenant)-ransom-1", "serviceSource": "microsoftDefenderForEndpoint", "severity": "high", "category": "Ransomware",
         "title": "Ransomware behavior detected in the file system", "createdDateTime": "\(graphTime(minutesAgo: 3))",
         "mitreTechniques": ["T1486"],
         "evidence": [{"@odata.type": "#microsoft.graph.security.deviceEvidence", "deviceDnsName": "\(Self.victimDevice)",
                       "ipInterfaces": ["\(Self.victimAddress)"]},
                      {"@odata.type": "#microsoft.graph.security.userEvidence", "userAccount": {"userPrincipalName": "\(victimUser)"}}]}
        """
    }

    /// Defender for Endpoint, informational: counted, never escalated on its own.
    var informational: String {
        """
        {"id": "da-\(tenant)-info-1", "serviceSource": "microsoftDefenderForEndpoint", "severity": "informational", "category": "Discovery",
         "title": "Unsigned PowerShell module loaded", "createdDateTime": "\(graphTime(minutesAgo: 20))",
         "evidence": [{"@odata.type": "#microsoft.graph.security.deviceEvidence", "deviceDnsName": "ws-0031"}]}
        """
    }

    /// A Graph list response of `alerts`, as the connector fetched it.
    static func graphBatch(_ alerts: String...) -> Data {
        Data(#"{"value": [\#(alerts.joined(separator: ",\n"))]}"#.utf8)
    }

    /// Check Point, over syslog: the workstation's address connects to a known C2 server (names the address only).
    var c2Connection: String {
        "<134>1 \(graphTime(minutesAgo: 1)) cp-gw01 CheckPoint 2519 - - CEF:0|Check Point|Anti Bot|R81.20|Log|Connection to C&C server|High|"
            + "act=Detect rt=\(millis(minutesAgo: 1)) src=\(Self.victimAddress) dst=\(Self.c2Address) spt=51234 dpt=443 proto=6 externalId=cp-\(tenant)-c2-1"
    }

    /// Check Point: the weekly vulnerability scan, which the SOC's suppression rule covers.
    var scannerSweep: String {
        "<134>1 \(graphTime(minutesAgo: 6)) cp-gw01 CheckPoint 2519 - - CEF:0|Check Point|IPS|R81.20|Log|Port scan|Medium|"
            + "act=Detect rt=\(millis(minutesAgo: 6)) src=\(Self.scannerAddress) dst=10.20.0.17 proto=6 externalId=cp-\(tenant)-scan-1"
    }

    /// The devices the connector enrols: 24 workstations (the victim's among them) and 2 servers.
    static var inventory: [(id: String, kind: String)] {
        (30..<54).map { (String(format: "ws-%04d", $0), "workstation") } + [("srv-dc01", "server"), ("srv-files01", "server")]
    }
}
