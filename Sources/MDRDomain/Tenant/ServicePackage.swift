/// The workplace packages of `DOMAIN.md` and what they mean for MDR.
public enum ServicePackage: String, Sendable, Codable, CaseIterable {
    /// Werkplek Compliant: MDR is a standard part of the package, SLA A.
    case compliant
    /// Werkplek Veilig: MDR is a separate option on top, SLA B, priced per workstation per month.
    case veilig
    /// Werkplek Modern: MDR is not available.
    case modern

    public var mdrStatus: MDRStatus {
        switch self {
        case .compliant: .included
        case .veilig: .addOn
        case .modern: .notAvailable
        }
    }

    public var sla: ServiceLevel? {
        switch self {
        case .compliant: .a
        case .veilig: .b
        case .modern: nil
        }
    }
}

/// Whether MDR is part of a package.
public enum MDRStatus: String, Sendable, Codable {
    case included
    case addOn = "add_on"
    case notAvailable = "not_available"
}

/// The service level agreement that applies: SLA A with Compliant, SLA B with the Veilig add-on.
public enum ServiceLevel: String, Sendable, Codable {
    case a = "A"
    case b = "B"
}
