/// A person at the customer who coordinates notifications and follow-up.
public struct Contact: Hashable, Sendable, Codable {
    public var name: String
    public var email: String
    public var phone: String?

    public init(name: String, email: String, phone: String? = nil) {
        self.name = name
        self.email = email
        self.phone = phone
    }

    func validated(_ what: String) throws(DomainError) -> Contact {
        let name = name.trimmingSpaces, email = email.trimmingSpaces
        guard !name.isEmpty, name.count <= 200 else {
            throw DomainError(.invalidContact, .invalid, "\(what): a name of 1–200 characters is required")
        }
        guard EmailAddress.isPlausible(email) else {
            throw DomainError(.invalidContact, .invalid, "\(what): '\(email.prefix(80))' is not an e-mail address")
        }
        return Contact(name: name, email: email, phone: phone?.trimmingSpaces.nilIfEmpty)
    }
}

/// How the customer is reached about a serious incident outside office hours, agreed in advance.
public struct ContactRoute: Hashable, Sendable, Codable {
    public enum Channel: String, Sendable, Codable, CaseIterable {
        case email
        case phone
        case webhook
    }

    public var channel: Channel
    /// An e-mail address, a phone number, or an https URL, according to the channel.
    public var address: String
    /// Who is reached and when, in the customer's words ("on-call IT, 24/7").
    public var note: String?

    public init(channel: Channel, address: String, note: String? = nil) {
        self.channel = channel
        self.address = address
        self.note = note
    }

    func validated() throws(DomainError) -> ContactRoute {
        let address = address.trimmingSpaces
        let ok: Bool
        switch channel {
        case .email: ok = EmailAddress.isPlausible(address)
        case .phone: ok = address.count >= 6 && address.count <= 32 && address.allSatisfy { "+0123456789 -()".contains($0) }
        case .webhook: ok = (address.hasPrefix("https://") || address.hasPrefix("http://")) && address.count <= 2000
        }
        guard ok else {
            throw DomainError(.invalidContact, .invalid, "after-hours route: '\(address.prefix(80))' is not a valid \(channel.rawValue) address")
        }
        return ContactRoute(channel: channel, address: address, note: note?.trimmingSpaces.nilIfEmpty)
    }
}

/// The customer's permission to intervene directly on a confirmed attack (isolating a device).
public struct InterventionConsent: Hashable, Sendable, Codable {
    /// Who at the customer gave it.
    public var grantedBy: String
    /// The date it was given (the signed agreement).
    public var grantedOn: CalendarDate

    public init(grantedBy: String, grantedOn: CalendarDate) {
        self.grantedBy = grantedBy
        self.grantedOn = grantedOn
    }
}

enum EmailAddress {
    static func isPlausible(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        return s.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".") && !s.contains(where: { $0.isWhitespace })
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
