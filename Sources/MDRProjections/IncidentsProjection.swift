import Foundation
import MDRDomain
import MDRStore
import PostgresNIO

/// The incidents view: every incident of every tenant with its status, priority, severity, times, devices, users,
/// sources and signal count (`incident_view`); its signals (`incident_signal_view`, with the signals themselves in
/// `signal_view`); and its timeline (`incident_timeline_view`): the events of its stream and the isolations it
/// justified.
///
/// `facts(of:)` is the one place where events become rows: a new event field or type is added there (and in the
/// statement that writes its fact). The statements run in the incident lifecycle's order (signals, opened,
/// attached, priority, confirmed, closed): each is either monotonic or commutative, so a page gives the same rows
/// whichever way the log is cut into pages (the rebuild test checks it).
public struct IncidentsProjection: Projection {
    public let name = "incidents"
    /// 2: severities ranked with `unknown` between low and medium (`severity_rank`).
    public let version = 2
    /// Every type: the timeline takes any event of an incident's stream, including types added later.
    public let eventTypes: Set<String>? = nil

    public init() {}

    /// What one event contributes to the view.
    enum Fact {
        case signal(SignalRow)
        case signalChanged(SignalID, status: SignalStatus, severity: Severity)
        case opened(incident: IncidentID, signal: SignalID, devices: [DeviceID], severity: Severity, priority: Priority?, at: Date)
        /// `ordinal` orders signals that join at one position (a merge hands on several).
        case attached(incident: IncidentID, signal: SignalID, devices: [DeviceID], severity: Severity, ordinal: Int = 0)
        case candidatePriority(incident: IncidentID, priority: Priority)
        case confirmed(incident: IncidentID, priority: Priority, summary: String, by: String, at: Date)
        case closed(
            incident: IncidentID, status: IncidentStatus, dismissal: DismissalClassification?, note: String, by: String, at: Date,
            mergedInto: IncidentID? = nil)
        /// The analyst who owns it (nil: nobody).
        case assigned(incident: IncidentID, assignee: String?)
        /// A timeline entry; `incident` nil for a release, which belongs to the device's last isolation.
        case timeline(incident: IncidentID?, device: DeviceID?, summary: String)
    }

    struct SignalRow {
        var id: SignalID
        var source: SignalSource
        var alertID: String
        var severity: Severity
        var status: SignalStatus
        var title: String
        var observedAt: Date
        var receivedAt: Date
        var devices: [DeviceID]
        var users: [String]
        var suppressed: Bool
    }

    /// The event → facts mapping.
    static func facts(of event: DomainEvent, stream: StreamName) -> [Fact] {
        switch event {
        case .signalIngested(let e):
            let s = e.signal
            return [
                .signal(
                    SignalRow(
                        id: e.signalID, source: s.source, alertID: s.sourceAlertID, severity: s.severity, status: s.status, title: s.title,
                        observedAt: s.observedAt, receivedAt: e.receivedAt, devices: s.entities.devices, users: s.entities.users,
                        suppressed: e.suppressedBy != nil))
            ]
        case .signalUpdated(let e):
            return [.signalChanged(e.signalID, status: e.status, severity: e.severity)]
        case .incidentOpened(let e):
            return [
                .opened(incident: e.incidentID, signal: e.signalID, devices: e.devices, severity: e.severity, priority: e.priority, at: e.openedAt),
                .timeline(incident: e.incidentID, device: nil, summary: "opened from a \(e.severity.rawValue) \(e.source.rawValue) signal, candidate \(e.priority.rawValue)"),
            ]
        case .signalAttached(let e):
            return [
                .attached(incident: e.incidentID, signal: e.signalID, devices: e.devices, severity: e.severity),
                .timeline(incident: e.incidentID, device: nil, summary: "\(e.severity.rawValue) \(e.source.rawValue) signal attached"),
            ]
        case .incidentPriorityRaised(let e):
            return [
                .candidatePriority(incident: e.incidentID, priority: e.to),
                .timeline(
                    incident: e.incidentID, device: nil,
                    summary: "candidate priority raised from \(e.from.rawValue) to \(e.to.rawValue): \(e.reasons.joined(separator: "; "))"),
            ]
        case .incidentConfirmed(let e):
            return [
                .confirmed(incident: e.incidentID, priority: e.priority, summary: e.summary, by: e.confirmedBy, at: e.confirmedAt),
                .timeline(incident: e.incidentID, device: nil, summary: "confirmed as \(e.priority.rawValue): \(e.summary)"),
            ]
        case .incidentDismissed(let e):
            return [
                .closed(incident: e.incidentID, status: .dismissed, dismissal: e.classification, note: e.reason, by: e.dismissedBy, at: e.dismissedAt),
                .timeline(incident: e.incidentID, device: nil, summary: "dismissed as \(e.classification.rawValue): \(e.reason)"),
            ]
        case .incidentResolved(let e):
            return [
                .closed(incident: e.incidentID, status: .resolved, dismissal: nil, note: e.resolution, by: e.resolvedBy, at: e.resolvedAt),
                .timeline(incident: e.incidentID, device: nil, summary: "resolved: \(e.resolution)"),
            ]
        case .incidentAbsorbed(let e):
            // The merged incident's signals join this one: as attachments, the first carrying the devices.
            return e.signals.enumerated().map { index, signal in
                .attached(incident: e.incidentID, signal: signal, devices: index == 0 ? e.devices : [], severity: e.severity, ordinal: index)
            } + (e.candidatePriority.map { [.candidatePriority(incident: e.incidentID, priority: $0)] } ?? []) + [
                .timeline(
                    incident: e.incidentID, device: nil,
                    summary: "incident \(e.absorbed) merged into this one (\(e.signals.count) signals): \(e.reason)")
            ]
        case .incidentAssigned(let e):
            return [
                .assigned(incident: e.incidentID, assignee: e.assignee),
                .timeline(incident: e.incidentID, device: nil, summary: e.assignee.map { "assigned to \($0)" } ?? "unassigned"),
            ]
        case .incidentNoteAdded(let e):
            return [.timeline(incident: e.incidentID, device: nil, summary: "note: \(e.text)")]
        case .incidentMerged(let e):
            return [
                .closed(incident: e.incidentID, status: .merged, dismissal: nil, note: e.reason, by: e.mergedBy, at: e.mergedAt, mergedInto: e.into),
                .timeline(incident: e.incidentID, device: nil, summary: "merged into incident \(e.into): \(e.reason)"),
            ]
        case .deviceIsolationRequested(let e):
            return [
                .timeline(
                    incident: e.incidentID, device: e.deviceID,
                    summary: "\(e.isolationType.rawValue.lowercased()) isolation of \(e.deviceID) requested: \(e.comment)")
            ]
        case .deviceIsolated(let e):
            return [.timeline(incident: e.incidentID, device: e.deviceID, summary: "\(e.deviceID) isolated")]
        case .deviceIsolationFailed(let e):
            return [.timeline(incident: e.incidentID, device: e.deviceID, summary: "isolation of \(e.deviceID) failed: \(e.reason)")]
        case .deviceReleaseRequested(let e):
            return [.timeline(incident: nil, device: e.deviceID, summary: "release of \(e.deviceID) requested: \(e.reason)")]
        case .deviceReleased(let e):
            return [.timeline(incident: nil, device: e.deviceID, summary: "\(e.deviceID) released")]
        default:
            // Events of an incident's stream this mapping does not know yet (e.g. SLA breaches) still enter the timeline.
            if stream.rawValue.hasPrefix("incident:"), let id = IncidentID(String(stream.rawValue.dropFirst("incident:".count))) {
                return [.timeline(incident: id, device: nil, summary: event.type)]
            }
            return []
        }
    }

    static func rank(_ severity: Severity) -> Int { Severity.allCases.firstIndex(of: severity)! }

    public func apply(_ events: [PipelineEvent], tenant: TenantID, on connection: PostgresConnection) async throws {
        var page = Page()
        for piped in events {
            for fact in Self.facts(of: try piped.event(), stream: piped.stream) {
                page.add(fact, piped.record)
            }
        }
        try await page.write(tenant: tenant, on: connection)
    }

    /// Forgets the removed incidents (with their signals' membership and timelines) and signals: what a rebuild from the
    /// remaining log would not hold.
    public func forget(streams: [StreamName], tenant: TenantID, on connection: PostgresConnection) async throws {
        let removed = RemovedStreams(streams)
        for table in ["incident_view", "incident_signal_view", "incident_timeline_view"] {
            var binds = PostgresBindings()
            try binds.append(tenant.rawValue)
            try binds.append(removed.incidents)
            try await connection.query(
                PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE tenant_id = $1 AND incident_id = ANY($2)", binds: binds),
                logger: Logger.projections)
        }
        try await connection.query(
            """
            DELETE FROM signal_view v USING unnest(\(removed.signalSources), \(removed.signalAlerts)) AS r (source, alert)
            WHERE v.tenant_id = \(tenant.rawValue) AND v.source = r.source AND v.source_alert_id = r.alert
            """, logger: Logger.projections)
    }

    public func reset(on connection: PostgresConnection) async throws {
        try await connection.query(
            "TRUNCATE incident_view, incident_signal_view, signal_view, incident_timeline_view", logger: Logger.projections)
    }
}

/// Lists of varying length as one flat array plus each list's 1-based bounds in it (`flat[start:end]`, empty when
/// `start > end`): PostgreSQL arrays of arrays must be rectangular.
private func flatten(_ lists: [[String]]) -> (flat: [String], start: [Int32], end: [Int32]) {
    var flat: [String] = []
    var start: [Int32] = []
    var end: [Int32] = []
    for list in lists {
        start.append(Int32(flat.count + 1))
        flat += list
        end.append(Int32(flat.count))
    }
    return (flat, start, end)
}

/// One page's facts, gathered into arrays for set-based statements.
private struct Page {
    var signals: [IncidentsProjection.SignalRow] = []
    var signalChanges: [SignalID: (SignalStatus, Severity)] = [:]
    var signalChangeOrder: [SignalID] = []
    var opened: [(incident: IncidentID, devices: [DeviceID], severity: Severity, priority: Priority?, at: Date, position: Int64)] = []
    /// Signals joining incidents (the opening one included), in log order.
    var memberships: [(incident: IncidentID, signal: SignalID, position: Int64, ordinal: Int)] = []
    /// Per incident: devices added (first-seen order), the highest severity attached, the last position.
    var attached: [IncidentID: (devices: [DeviceID], severity: Severity, position: Int64)] = [:]
    var attachedOrder: [IncidentID] = []
    var priorities: [IncidentID: Priority] = [:]
    /// The last assignment of each incident on the page, in first-assigned order.
    var assignments: [IncidentID: String?] = [:]
    var assignmentOrder: [IncidentID] = []
    var confirmed: [(incident: IncidentID, priority: Priority, summary: String, by: String, at: Date, position: Int64)] = []
    var closed:
        [(
            incident: IncidentID, status: IncidentStatus, dismissal: DismissalClassification?, note: String, by: String, at: Date,
            mergedInto: IncidentID?, position: Int64
        )] = []
    var timeline: [(incident: IncidentID?, device: DeviceID?, position: Int64, type: String, at: Date, actor: String, actorName: String, summary: String)] = []

    mutating func add(_ fact: IncidentsProjection.Fact, _ recorded: RecordedEvent) {
        let position = recorded.position
        switch fact {
        case .signal(let row):
            signals.append(row)
        case .signalChanged(let id, let status, let severity):
            if signalChanges[id] == nil { signalChangeOrder.append(id) }
            signalChanges[id] = (status, severity)
        case .opened(let incident, let signal, let devices, let severity, let priority, let at):
            opened.append((incident, devices, severity, priority, at, position))
            memberships.append((incident, signal, position, 0))
        case .attached(let incident, let signal, let devices, let severity, let ordinal):
            memberships.append((incident, signal, position, ordinal))
            if var known = attached[incident] {
                for d in devices where !known.devices.contains(d) { known.devices.append(d) }
                known.severity = max(known.severity, severity)
                known.position = position
                attached[incident] = known
            } else {
                attachedOrder.append(incident)
                attached[incident] = (devices, severity, position)
            }
        case .candidatePriority(let incident, let priority):
            priorities[incident] = max(priorities[incident] ?? priority, priority)
        case .confirmed(let incident, let priority, let summary, let by, let at):
            confirmed.append((incident, priority, summary, by, at, position))
        case .closed(let incident, let status, let dismissal, let note, let by, let at, let mergedInto):
            closed.append((incident, status, dismissal, note, by, at, mergedInto, position))
        case .assigned(let incident, let assignee):
            if assignments[incident] == nil { assignmentOrder.append(incident) }
            assignments[incident] = .some(assignee)
        case .timeline(let incident, let device, let summary):
            timeline.append(
                (incident, device, position, recorded.type, recorded.recordedAt, recorded.metadata.actor, recorded.metadata.actorName, summary))
        }
    }

    func write(tenant: TenantID, on connection: PostgresConnection) async throws {
        let logger = Logger.projections
        let t = tenant.rawValue
        if !signals.isEmpty {
            // Users of all signals go in one flat array, cut back into rows by each signal's count.
            let (flatUsers, userStart, userEnd) = flatten(signals.map(\.users))
            let (flatDevices, deviceStart, deviceEnd) = flatten(signals.map { $0.devices.map(\.rawValue) })
            try await connection.query(
                """
                INSERT INTO signal_view
                    (tenant_id, signal_id, source, source_alert_id, severity, status, title, observed_at, received_at, devices, users, suppressed)
                SELECT \(t), u.id, u.source, u.alert, u.severity, u.status, u.title, u.observed, u.received,
                       (\(flatDevices)::text[])[u.d_start:u.d_end], (\(flatUsers)::text[])[u.u_start:u.u_end], u.suppressed
                FROM unnest(\(signals.map(\.id.rawValue))::uuid[], \(signals.map(\.source.rawValue))::text[], \(signals.map(\.alertID))::text[],
                                \(signals.map(\.severity.rawValue))::text[], \(signals.map(\.status.rawValue))::text[], \(signals.map(\.title))::text[],
                                \(signals.map(\.observedAt))::timestamptz[], \(signals.map(\.receivedAt))::timestamptz[],
                            \(deviceStart)::int[], \(deviceEnd)::int[], \(userStart)::int[], \(userEnd)::int[], \(signals.map(\.suppressed))::bool[])
                     AS u(id, source, alert, severity, status, title, observed, received, d_start, d_end, u_start, u_end, suppressed)
                ON CONFLICT (tenant_id, signal_id) DO NOTHING
                """, logger: logger)
        }
        if !signalChangeOrder.isEmpty {
            let changes = signalChangeOrder.map { ($0, signalChanges[$0]!) }
            try await connection.query(
                """
                UPDATE signal_view g SET status = u.status, severity = u.severity
                FROM unnest(\(changes.map(\.0.rawValue))::uuid[], \(changes.map(\.1.0.rawValue))::text[], \(changes.map(\.1.1.rawValue))::text[])
                     AS u(id, status, severity)
                WHERE g.tenant_id = \(t) AND g.signal_id = u.id
                """, logger: logger)
        }
        if !opened.isEmpty {
            let (flatDevices, deviceStart, deviceEnd) = flatten(opened.map { $0.devices.map(\.rawValue) })
            try await connection.query(
                """
                INSERT INTO incident_view
                    (tenant_id, incident_id, status, priority, candidate_priority, severity, severity_rank, opened_at, devices, last_position)
                SELECT \(t), u.id, 'open', nullif(u.priority, ''), nullif(u.priority, ''), u.severity, u.rank, u.at,
                       (\(flatDevices)::text[])[u.d_start:u.d_end], u.position
                FROM unnest(\(opened.map(\.incident.rawValue))::uuid[], \(opened.map { $0.priority?.rawValue ?? "" })::text[],
                                \(opened.map(\.severity.rawValue))::text[], \(opened.map { IncidentsProjection.rank($0.severity) })::int[],
                            \(opened.map(\.at))::timestamptz[], \(deviceStart)::int[], \(deviceEnd)::int[], \(opened.map(\.position))::bigint[])
                     AS u(id, priority, severity, rank, at, d_start, d_end, position)
                ON CONFLICT (tenant_id, incident_id) DO NOTHING
                """, logger: logger)
        }
        if !memberships.isEmpty {
            try await connection.query(
                """
                INSERT INTO incident_signal_view (tenant_id, incident_id, signal_id, position, ordinal)
                SELECT \(t), u.incident, u.signal, u.position, u.ordinal
                FROM unnest(\(memberships.map(\.incident.rawValue))::uuid[], \(memberships.map(\.signal.rawValue))::uuid[],
                            \(memberships.map(\.position))::bigint[], \(memberships.map { Int32($0.ordinal) })::int[])
                     AS u(incident, signal, position, ordinal)
                ON CONFLICT (tenant_id, incident_id, signal_id) DO NOTHING
                """, logger: logger)
        }
        if !attachedOrder.isEmpty {
            let rows = attachedOrder.map { ($0, attached[$0]!) }
            let (flatDevices, deviceStart, deviceEnd) = flatten(rows.map { $0.1.devices.map(\.rawValue) })
            try await connection.query(
                """
                UPDATE incident_view v SET
                    devices = ARRAY(
                        SELECT d FROM unnest(v.devices || (\(flatDevices)::text[])[x.d_start:x.d_end])
                               WITH ORDINALITY AS a(d, o)
                        GROUP BY d ORDER BY min(o)),
                    severity = CASE WHEN x.rank > v.severity_rank THEN x.severity ELSE v.severity END,
                    severity_rank = greatest(v.severity_rank, x.rank),
                    last_position = greatest(v.last_position, x.position)
                FROM unnest(\(rows.map(\.0.rawValue))::uuid[], \(rows.map(\.1.severity.rawValue))::text[],
                            \(rows.map { IncidentsProjection.rank($0.1.severity) })::int[], \(deviceStart)::int[], \(deviceEnd)::int[],
                            \(rows.map(\.1.position))::bigint[])
                     AS x(id, severity, rank, d_start, d_end, position)
                WHERE v.tenant_id = \(t) AND v.incident_id = x.id
                """, logger: logger)
        }
        if !priorities.isEmpty {
            let rows = priorities.sorted { $0.key.rawValue.uuidString < $1.key.rawValue.uuidString }
            // P1 is the most urgent, and the least as text.
            try await connection.query(
                """
                UPDATE incident_view v SET
                    candidate_priority = least(coalesce(v.candidate_priority, u.priority), u.priority),
                    priority = CASE WHEN v.confirmed_at IS NULL THEN least(coalesce(v.candidate_priority, u.priority), u.priority) ELSE v.priority END
                FROM unnest(\(rows.map(\.key.rawValue))::uuid[], \(rows.map(\.value.rawValue))::text[]) AS u(id, priority)
                WHERE v.tenant_id = \(t) AND v.incident_id = u.id
                """, logger: logger)
        }
        if !confirmed.isEmpty {
            try await connection.query(
                """
                UPDATE incident_view v SET
                    status = CASE WHEN v.status = 'open' THEN 'confirmed' ELSE v.status END,
                    priority = u.priority, summary = u.summary, confirmed_at = u.at, confirmed_by = u.by,
                    last_position = greatest(v.last_position, u.position)
                FROM unnest(\(confirmed.map(\.incident.rawValue))::uuid[], \(confirmed.map(\.priority.rawValue))::text[],
                            \(confirmed.map(\.summary))::text[], \(confirmed.map(\.at))::timestamptz[], \(confirmed.map(\.by))::text[],
                            \(confirmed.map(\.position))::bigint[]) AS u(id, priority, summary, at, by, position)
                WHERE v.tenant_id = \(t) AND v.incident_id = u.id
                """, logger: logger)
        }
        if !closed.isEmpty {
            try await connection.query(
                """
                UPDATE incident_view v SET
                    status = u.status, dismissal = nullif(u.dismissal, ''), closing_note = u.note, closed_at = u.at, closed_by = u.by,
                    merged_into = nullif(u.merged_into, '')::uuid, last_position = greatest(v.last_position, u.position)
                FROM unnest(\(closed.map(\.incident.rawValue))::uuid[], \(closed.map(\.status.rawValue))::text[],
                            \(closed.map { $0.dismissal?.rawValue ?? "" })::text[], \(closed.map(\.note))::text[], \(closed.map(\.at))::timestamptz[],
                            \(closed.map(\.by))::text[], \(closed.map { $0.mergedInto?.rawValue.uuidString ?? "" })::text[],
                            \(closed.map(\.position))::bigint[]) AS u(id, status, dismissal, note, at, by, merged_into, position)
                WHERE v.tenant_id = \(t) AND v.incident_id = u.id
                """, logger: logger)
        }
        if !assignmentOrder.isEmpty {
            let rows = assignmentOrder.map { ($0, assignments[$0]!) }
            try await connection.query(
                """
                UPDATE incident_view v SET assignee = nullif(u.assignee, '')
                FROM unnest(\(rows.map(\.0.rawValue))::uuid[], \(rows.map { $0.1 ?? "" })::text[]) AS u(id, assignee)
                WHERE v.tenant_id = \(t) AND v.incident_id = u.id
                """, logger: logger)
        }
        let touched = Array(Set(opened.map(\.incident) + attachedOrder)).map(\.rawValue)
        if !touched.isEmpty {
            // Users and sources are those of the incident's signals; the count is of its distinct signals.
            try await connection.query(
                """
                UPDATE incident_view v SET
                    signal_count = (SELECT count(*) FROM incident_signal_view s WHERE s.tenant_id = v.tenant_id AND s.incident_id = v.incident_id),
                    users = (SELECT coalesce(array_agg(DISTINCT u ORDER BY u), '{}')
                             FROM incident_signal_view s
                             JOIN signal_view g ON g.tenant_id = s.tenant_id AND g.signal_id = s.signal_id
                             CROSS JOIN LATERAL unnest(g.users) AS u
                             WHERE s.tenant_id = v.tenant_id AND s.incident_id = v.incident_id),
                    sources = (SELECT coalesce(array_agg(DISTINCT g.source ORDER BY g.source), '{}')
                               FROM incident_signal_view s
                               JOIN signal_view g ON g.tenant_id = s.tenant_id AND g.signal_id = s.signal_id
                               WHERE s.tenant_id = v.tenant_id AND s.incident_id = v.incident_id)
                WHERE v.tenant_id = \(t) AND v.incident_id = ANY(\(touched)::uuid[])
                """, logger: logger)
        }
        if !timeline.isEmpty {
            // A release names no incident: it belongs to the incident of the device's last isolation event, on this page
            // or (the subquery) in the rows written before.
            var entries = timeline
            var incidentOfDevice: [DeviceID: IncidentID] = [:]
            for i in entries.indices {
                guard let device = entries[i].device else { continue }
                if let incident = entries[i].incident { incidentOfDevice[device] = incident } else { entries[i].incident = incidentOfDevice[device] }
            }
            try await connection.query(
                """
                INSERT INTO incident_timeline_view (tenant_id, incident_id, position, type, at, actor, actor_name, summary, device_id)
                SELECT \(t), x.incident, x.position, x.type, x.at, x.actor, x.actor_name, x.summary, x.device
                FROM (
                    SELECT coalesce(nullif(u.incident, '')::uuid,
                                    (SELECT l.incident_id FROM incident_timeline_view l
                                     WHERE l.tenant_id = \(t) AND l.device_id = nullif(u.device, '') ORDER BY l.position DESC LIMIT 1)) AS incident,
                           u.position, u.type, u.at, u.actor, u.actor_name, u.summary, nullif(u.device, '') AS device
                    FROM unnest(\(entries.map { $0.incident?.rawValue.uuidString ?? "" })::text[], \(entries.map { $0.device?.rawValue ?? "" })::text[],
                                \(entries.map(\.position))::bigint[], \(entries.map(\.type))::text[], \(entries.map(\.at))::timestamptz[],
                                \(entries.map(\.actor))::text[], \(entries.map(\.actorName))::text[], \(entries.map(\.summary))::text[])
                         AS u(incident, device, position, type, at, actor, actor_name, summary)
                ) x
                WHERE x.incident IS NOT NULL
                ON CONFLICT (tenant_id, incident_id, position) DO NOTHING
                """, logger: logger)
        }
    }
}
