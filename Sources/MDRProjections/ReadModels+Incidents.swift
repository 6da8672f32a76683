import Foundation
import MDRDomain
import MDRStore
import PostgresNIO

/// An incident as the incidents view holds it (`incident_view`).
public struct IncidentSummary: Sendable, Equatable, Codable {
    public var tenant: TenantID
    public var id: IncidentID
    public var status: IncidentStatus
    /// The analyst's priority once confirmed, else the correlator's candidate priority.
    public var priority: Priority?
    public var candidatePriority: Priority?
    /// The highest severity of its signals.
    public var severity: Severity
    public var summary: String?
    public var openedAt: Date
    public var confirmedAt: Date?
    public var confirmedBy: String?
    /// When it was dismissed or resolved, by whom, and the reason or resolution.
    public var closedAt: Date?
    public var closedBy: String?
    public var closingNote: String?
    public var dismissal: DismissalClassification?
    /// In the order they joined the incident.
    public var devices: [DeviceID]
    /// The users its signals name, sorted.
    public var users: [String]
    public var sources: [SignalSource]
    public var signalCount: Int
    /// The incident a merged one continues in.
    public var mergedInto: IncidentID? = nil
    /// The analyst who owns it.
    public var assignee: String? = nil
}

/// A signal of an incident (`incident_signal_view` with `signal_view`).
public struct IncidentSignal: Sendable, Equatable, Codable {
    public var id: SignalID
    public var source: SignalSource
    public var sourceAlertID: String
    public var severity: Severity
    public var status: SignalStatus
    public var title: String
    public var observedAt: Date
    public var receivedAt: Date
    public var devices: [DeviceID]
    public var users: [String]
}

/// One entry of an incident's timeline (`incident_timeline_view`).
public struct IncidentTimelineEntry: Sendable, Equatable, Codable {
    /// The event's position in the tenant's log.
    public var position: Int64
    public var type: String
    /// When the event was recorded.
    public var at: Date
    public var actor: String
    public var actorName: String
    /// What happened, in a line.
    public var summary: String
    public var device: DeviceID?
}

/// An incident with its signals and timeline.
public struct IncidentDetail: Sendable, Equatable, Codable {
    public var incident: IncidentSummary
    public var signals: [IncidentSignal]
    public var timeline: [IncidentTimelineEntry]
}

/// Which incidents to list. Every field narrows; nil fields do not.
public struct IncidentFilter: Sendable, Equatable {
    public var status: IncidentStatus?
    public var priority: Priority?
    /// Opened at or after.
    public var from: Date?
    /// Opened before.
    public var to: Date?
    public var device: DeviceID?
    public var user: String?
    /// Assigned to this analyst (a principal id).
    public var assignee: String?
    /// Assigned to nobody.
    public var unassigned: Bool

    public init(
        status: IncidentStatus? = nil, priority: Priority? = nil, from: Date? = nil, to: Date? = nil, device: DeviceID? = nil, user: String? = nil,
        assignee: String? = nil, unassigned: Bool = false
    ) {
        self.status = status
        self.priority = priority
        self.from = from
        self.to = to
        self.device = device
        self.user = user
        self.assignee = assignee
        self.unassigned = unassigned
    }
}

/// Where a page of incidents ended (newest first): an opaque string for the API.
public struct IncidentCursor: Sendable, Equatable, CustomStringConvertible {
    var openedAtMicros: Int64
    var tenant: String
    var id: UUID

    public init?(_ text: String) {
        let parts = text.split(separator: "~", omittingEmptySubsequences: false)
        guard parts.count == 3, let micros = Int64(parts[0]), TenantID(rawValue: String(parts[1])) != nil, let id = UUID(uuidString: String(parts[2]))
        else { return nil }
        self.openedAtMicros = micros
        self.tenant = String(parts[1])
        self.id = id
    }

    init(openedAtMicros: Int64, tenant: String, id: UUID) {
        self.openedAtMicros = openedAtMicros
        self.tenant = tenant
        self.id = id
    }

    public var description: String { "\(openedAtMicros)~\(tenant)~\(id.uuidString.lowercased())" }
}

/// A page of incidents, newest first, and the cursor of the next page (nil on the last).
public struct IncidentPage: Sendable, Equatable {
    public var incidents: [IncidentSummary]
    public var next: IncidentCursor?
}

extension ReadModels {
    /// Per tenant, its incidents not yet closed (candidates and confirmed); tenants without any are absent.
    public func openIncidentCounts() async throws -> [TenantID: Int] {
        var counts: [TenantID: Int] = [:]
        let rows = try await database.client.query(
            "SELECT tenant_id, count(*) FROM incident_view WHERE status IN ('open', 'confirmed') GROUP BY tenant_id", logger: logger)
        for try await (tenant, count) in rows.decode((String, Int64).self) {
            if let id = TenantID(rawValue: tenant) { counts[id] = Int(count) }
        }
        return counts
    }

    static let incidentColumns = """
        tenant_id, incident_id, status, priority, candidate_priority, severity, summary, opened_at, confirmed_at, confirmed_by,
        closed_at, closed_by, closing_note, dismissal, devices, users, sources, signal_count, (extract(epoch FROM opened_at) * 1000000)::bigint,
        merged_into, assignee
        """

    /// Incidents newest first. `tenants` limits them (nil: every tenant, for the SOC); `limit` is the page size.
    public func incidents(tenants: [TenantID]?, filter: IncidentFilter = .init(), limit: Int = 50, after cursor: IncidentCursor? = nil)
        async throws -> IncidentPage
    {
        let scope = tenants?.map(\.rawValue)
        let status = filter.status?.rawValue, priority = filter.priority?.rawValue
        let device = filter.device?.rawValue, user = filter.user
        let afterMicros = cursor?.openedAtMicros, afterTenant = cursor?.tenant, afterID = cursor?.id
        var query: PostgresQuery = """
            SELECT \(unescaped: Self.incidentColumns) FROM incident_view
            WHERE (\(scope)::text[] IS NULL OR tenant_id = ANY(\(scope)::text[]))
              AND (\(status)::text IS NULL OR status = \(status)::text)
              AND (\(priority)::text IS NULL OR priority = \(priority)::text)
              AND (\(filter.from)::timestamptz IS NULL OR opened_at >= \(filter.from)::timestamptz)
              AND (\(filter.to)::timestamptz IS NULL OR opened_at < \(filter.to)::timestamptz)
              AND (\(device)::text IS NULL OR devices @> ARRAY[\(device)::text])
              AND (\(user)::text IS NULL OR users @> ARRAY[\(user)::text])
              AND (\(filter.assignee)::text IS NULL OR assignee = \(filter.assignee)::text)
              AND (NOT \(filter.unassigned)::bool OR assignee IS NULL)
            """
        if let afterMicros, let afterTenant, let afterID {
            query.sql += " AND (opened_at, tenant_id, incident_id) < (to_timestamp(0) + $\(query.binds.count + 1)::bigint * interval '1 microsecond', $\(query.binds.count + 2)::text, $\(query.binds.count + 3)::uuid)"
            query.binds.append(afterMicros)
            query.binds.append(afterTenant)
            query.binds.append(afterID)
        }
        query.sql += " ORDER BY opened_at DESC, tenant_id DESC, incident_id DESC LIMIT \(max(1, min(limit, 500)) + 1)"
        let rows = try await database.client.query(query, logger: logger)
        var incidents: [IncidentSummary] = []
        var micros: [Int64] = []
        for try await row in rows {
            let (summary, openedMicros) = try Self.decodeIncident(row)
            incidents.append(summary)
            micros.append(openedMicros)
        }
        let pageSize = max(1, min(limit, 500))
        guard incidents.count > pageSize else { return IncidentPage(incidents: incidents, next: nil) }
        incidents.removeLast()
        let last = incidents[incidents.count - 1]
        return IncidentPage(
            incidents: incidents, next: IncidentCursor(openedAtMicros: micros[pageSize - 1], tenant: last.tenant.rawValue, id: last.id.rawValue))
    }

    /// One incident with its signals and timeline, or nil when the tenant has no such incident (in the view).
    public func incident(tenant: TenantID, id: IncidentID) async throws -> IncidentDetail? {
        var found: IncidentSummary? = nil
        for try await row in try await database.client.query(
            "SELECT \(unescaped: Self.incidentColumns) FROM incident_view WHERE tenant_id = \(tenant.rawValue) AND incident_id = \(id.rawValue)",
            logger: logger)
        {
            found = try Self.decodeIncident(row).0
        }
        guard let incident = found else { return nil }
        var signals: [IncidentSignal] = []
        let signalRows = try await database.client.query(
            """
            SELECT g.signal_id, g.source, g.source_alert_id, g.severity, g.status, g.title, g.observed_at, g.received_at, g.devices, g.users
            FROM incident_signal_view s JOIN signal_view g ON g.tenant_id = s.tenant_id AND g.signal_id = s.signal_id
            WHERE s.tenant_id = \(tenant.rawValue) AND s.incident_id = \(id.rawValue)
            ORDER BY s.position, s.ordinal, g.signal_id
            """, logger: logger)
        for try await (signalID, source, alert, severity, status, title, observed, received, devices, users) in signalRows.decode(
            (UUID, String, String, String, String, String, Date, Date, [String], [String]).self)
        {
            signals.append(
                IncidentSignal(
                    id: SignalID(rawValue: signalID), source: SignalSource(rawValue: source) ?? .endpoint, sourceAlertID: alert,
                    severity: Severity(rawValue: severity) ?? .informational, status: SignalStatus(rawValue: status) ?? .new, title: title,
                    observedAt: observed, receivedAt: received, devices: devices.compactMap(DeviceID.init(rawValue:)), users: users))
        }
        var timeline: [IncidentTimelineEntry] = []
        let timelineRows = try await database.client.query(
            """
            SELECT position, type, at, actor, actor_name, summary, device_id FROM incident_timeline_view
            WHERE tenant_id = \(tenant.rawValue) AND incident_id = \(id.rawValue) ORDER BY position
            """, logger: logger)
        for try await (position, type, at, actor, actorName, summary, device) in timelineRows.decode(
            (Int64, String, Date, String, String, String, String?).self)
        {
            timeline.append(
                IncidentTimelineEntry(
                    position: position, type: type, at: at, actor: actor, actorName: actorName, summary: summary,
                    device: device.flatMap(DeviceID.init(rawValue:))))
        }
        return IncidentDetail(incident: incident, signals: signals, timeline: timeline)
    }

    static func decodeIncident(_ row: PostgresRow) throws -> (IncidentSummary, Int64) {
        let (tenant, id, status, priority, candidate, severity, summary, openedAt, confirmedAt, confirmedBy) = try row.decode(
            (String, UUID, String, String?, String?, String, String?, Date, Date?, String?).self)
        let columns = row.makeRandomAccess()
        let closedAt = try columns[10].decode(Date?.self)
        let closedBy = try columns[11].decode(String?.self)
        let closingNote = try columns[12].decode(String?.self)
        let dismissal = try columns[13].decode(String?.self)
        let devices = try columns[14].decode([String].self)
        let users = try columns[15].decode([String].self)
        let sources = try columns[16].decode([String].self)
        let signalCount = try columns[17].decode(Int32.self)
        let micros = try columns[18].decode(Int64.self)
        let mergedInto = try columns[19].decode(UUID?.self)
        let assignee = try columns[20].decode(String?.self)
        return (
            IncidentSummary(
                tenant: TenantID(rawValue: tenant) ?? TenantID(rawValue: "invalid")!, id: IncidentID(rawValue: id),
                status: IncidentStatus(rawValue: status) ?? .open, priority: priority.flatMap(Priority.init(rawValue:)),
                candidatePriority: candidate.flatMap(Priority.init(rawValue:)), severity: Severity(rawValue: severity) ?? .informational,
                summary: summary, openedAt: openedAt, confirmedAt: confirmedAt, confirmedBy: confirmedBy, closedAt: closedAt, closedBy: closedBy,
                closingNote: closingNote, dismissal: dismissal.flatMap(DismissalClassification.init(rawValue:)),
                devices: devices.compactMap(DeviceID.init(rawValue:)), users: users, sources: sources.compactMap(SignalSource.init(rawValue:)),
                signalCount: Int(signalCount), mergedInto: mergedInto.map(IncidentID.init(rawValue:)), assignee: assignee),
            micros
        )
    }
}
