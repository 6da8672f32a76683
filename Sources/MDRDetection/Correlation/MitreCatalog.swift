import MDRDomain

/// Which ATT&CK tactics a technique or a source's alert category stands for, for the techniques the SOC's sources
/// report most. A technique missing here contributes no tactic (the signal still correlates by its entities); extend
/// the table rather than guessing from the id.
public enum MitreCatalog {
    /// The tactics of a technique id (`T1566.001` is read as its parent `T1566`), in kill-chain order.
    public static func tactics(ofTechnique technique: String) -> [MitreTactic] {
        let parent = technique.split(separator: ".").first.map(String.init) ?? technique
        return (techniques[parent.uppercased()] ?? []).sorted()
    }

    /// The tactic an alert category names (Graph `category` such as `InitialAccess`, `CommandAndControl`,
    /// `Ransomware`), if it names one.
    public static func tactic(ofCategory category: String) -> MitreTactic? {
        let key = category.lowercased().filter { $0.isLetter }
        if key == "ransomware" { return .impact }
        return MitreTactic.allCases.first { $0.rawValue.filter { $0.isLetter } == key }
    }

    /// The distinct tactics of a signal: of its techniques and of its category, in kill-chain order.
    public static func tactics(of signal: Signal) -> [MitreTactic] {
        var found = Set(signal.mitreTechniques.flatMap(tactics(ofTechnique:)))
        if let category = signal.category, let tactic = tactic(ofCategory: category) { found.insert(tactic) }
        return found.sorted()
    }

    static let techniques: [String: [MitreTactic]] = [
        // Reconnaissance and resource development
        "T1595": [.reconnaissance], "T1598": [.reconnaissance], "T1589": [.reconnaissance],
        "T1583": [.resourceDevelopment], "T1584": [.resourceDevelopment], "T1587": [.resourceDevelopment],
        "T1588": [.resourceDevelopment],
        // Initial access
        "T1566": [.initialAccess], "T1190": [.initialAccess], "T1133": [.initialAccess, .persistence],
        "T1189": [.initialAccess], "T1195": [.initialAccess], "T1199": [.initialAccess],
        "T1078": [.initialAccess, .persistence, .privilegeEscalation, .defenseEvasion],
        // Execution
        "T1059": [.execution], "T1204": [.execution], "T1047": [.execution], "T1569": [.execution],
        "T1053": [.execution, .persistence, .privilegeEscalation], "T1203": [.execution], "T1106": [.execution],
        // Persistence and privilege escalation
        "T1547": [.persistence, .privilegeEscalation], "T1098": [.persistence, .privilegeEscalation],
        "T1136": [.persistence], "T1137": [.persistence], "T1505": [.persistence], "T1543": [.persistence, .privilegeEscalation],
        "T1546": [.persistence, .privilegeEscalation], "T1068": [.privilegeEscalation],
        "T1548": [.privilegeEscalation, .defenseEvasion], "T1055": [.privilegeEscalation, .defenseEvasion],
        "T1484": [.privilegeEscalation, .defenseEvasion],
        // Defense evasion
        "T1562": [.defenseEvasion], "T1070": [.defenseEvasion], "T1027": [.defenseEvasion], "T1564": [.defenseEvasion],
        "T1218": [.defenseEvasion], "T1112": [.defenseEvasion], "T1036": [.defenseEvasion], "T1140": [.defenseEvasion],
        "T1550": [.defenseEvasion, .lateralMovement],
        // Credential access
        "T1110": [.credentialAccess], "T1003": [.credentialAccess], "T1555": [.credentialAccess], "T1552": [.credentialAccess],
        "T1558": [.credentialAccess], "T1621": [.credentialAccess], "T1528": [.credentialAccess], "T1539": [.credentialAccess],
        "T1557": [.credentialAccess, .collection], "T1556": [.credentialAccess, .defenseEvasion, .persistence],
        // Discovery
        "T1087": [.discovery], "T1018": [.discovery], "T1082": [.discovery], "T1083": [.discovery], "T1046": [.discovery],
        "T1069": [.discovery], "T1016": [.discovery], "T1135": [.discovery], "T1482": [.discovery],
        // Lateral movement
        "T1021": [.lateralMovement], "T1570": [.lateralMovement], "T1534": [.lateralMovement], "T1210": [.lateralMovement],
        // Collection
        "T1114": [.collection], "T1005": [.collection], "T1039": [.collection], "T1560": [.collection], "T1213": [.collection],
        "T1530": [.collection],
        // Command and control
        "T1071": [.commandAndControl], "T1105": [.commandAndControl], "T1572": [.commandAndControl], "T1090": [.commandAndControl],
        "T1219": [.commandAndControl], "T1568": [.commandAndControl], "T1571": [.commandAndControl], "T1095": [.commandAndControl],
        "T1573": [.commandAndControl], "T1102": [.commandAndControl],
        // Exfiltration
        "T1041": [.exfiltration], "T1567": [.exfiltration], "T1048": [.exfiltration], "T1020": [.exfiltration],
        // Impact
        "T1486": [.impact], "T1490": [.impact], "T1489": [.impact], "T1485": [.impact], "T1491": [.impact], "T1496": [.impact],
        "T1657": [.impact], "T1531": [.impact], "T1561": [.impact],
    ]
}
