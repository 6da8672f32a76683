import Foundation
import Logging
import MDRDetection
import MDRDomain
import MDRStore

/// Carries out commands: loads the state the decision needs from the event log, decides with the pure domain,
/// and appends the events with expected versions under the command id. Shared by the HTTP API and the CLI.
public struct CommandService: Sendable {
    public let store: EventStore
    public let time: any TimeSource
    /// The largest signal batch one request may carry.
    public var maxBatchSize: Int
    /// How often a command is decided again after a concurrent change to the same aggregate.
    public var conflictRetries: Int
    /// The tenant and suppression-rule states this instance has folded (shared by the copies of this service).
    let states: StreamStateCache

    public init(
        store: EventStore, time: any TimeSource = SystemTime(), maxBatchSize: Int = 5000, conflictRetries: Int = 3,
        states: StreamStateCache = StreamStateCache()
    ) {
        self.store = store
        self.time = time
        self.maxBatchSize = maxBatchSize
        self.conflictRetries = conflictRetries
        self.states = states
    }

    /// A decision ready to append.
    struct Decision<Result: Codable & Sendable> {
        var events: [EventToAppend]
        var expectations: [StreamName: ExpectedVersion]
        var result: Result
    }

    /// The one path every command takes: idempotency check, decide, append; decide again on a version conflict. The
    /// request is fingerprinted only when the command has an id (an `Idempotency-Key`): without one nothing is compared.
    ///
    /// Two requests with one key may run at once (a client retrying after a timeout, on any instance). The command
    /// record commits with the first one's events, so the second either finds it before deciding, or appends and meets
    /// it (the key is unique: PostgreSQL makes the second insert wait for the first transaction), or decides after the
    /// first committed, on the state the first changed, and is refused: isolating a device whose isolation is now
    /// pending. A refusal is therefore never the answer for a key before it is checked again: when the key's command
    /// has meanwhile been carried out, its outcome is the answer (docs/api.md, "Idempotency").
    func execute<Result: Codable & Sendable>(
        tenant: TenantID, context: CommandContext, fingerprint: @autoclosure () -> [String],
        decide: () async throws -> Decision<Result>
    ) async throws -> CommandOutcome<Result> {
        let requestHash = context.commandID == nil ? Data() : requestFingerprint(fingerprint())
        if let id = context.commandID {
            guard !id.isEmpty, id.unicodeScalars.count <= 200 else {
                throw DomainError(.invalidIdempotencyKey, .invalid, "an Idempotency-Key must be 1–200 characters")
            }
            if let stored = try await store.storedCommand(tenant: tenant, id: id) {
                return try repeated(stored, requestHash: requestHash)
            }
        }
        var attempt = 0
        while true {
            let decision: Decision<Result>
            do {
                decision = try await decide()
            } catch let refusal as DomainError {
                if let id = context.commandID, let stored = try await store.storedCommand(tenant: tenant, id: id) {
                    return try repeated(stored, requestHash: requestHash)
                }
                throw refusal
            }
            if decision.events.isEmpty && context.commandID == nil {
                return CommandOutcome(result: decision.result, firstPosition: nil, lastPosition: nil, repeated: false)
            }
            let command = try context.commandID.map {
                CommandRecord(id: $0, requestHash: requestHash, result: try JSONCoding.encoder().encode(decision.result))
            }
            do {
                switch try await store.append(tenant: tenant, events: decision.events, expectations: decision.expectations, command: command) {
                case .appended(let r):
                    let appended = r.count > 0
                    return CommandOutcome(
                        result: decision.result, firstPosition: appended ? r.firstPosition : nil, lastPosition: appended ? r.lastPosition : nil,
                        repeated: false)
                case .repeated(let stored):
                    return try repeated(stored, requestHash: requestHash)
                }
            } catch let StoreError.versionConflict(stream, expected, actual) {
                attempt += 1
                if attempt > conflictRetries {
                    throw DomainError(
                        .versionConflict, .conflict,
                        "\(stream) changed concurrently (expected version \(expected), found \(actual)): send the request again")
                }
            }
        }
    }

    private func repeated<Result: Codable & Sendable>(_ stored: StoredCommand, requestHash: Data) throws -> CommandOutcome<Result> {
        if let hash = stored.requestHash, hash != requestHash {
            throw DomainError(
                .idempotencyKeyReused, .invalid,
                "the Idempotency-Key '\(stored.id.prefix(80))' was used for a different request: use a new key for a new command")
        }
        let result = try JSONCoding.decoder().decode(Result.self, from: stored.result)
        return CommandOutcome(result: result, firstPosition: stored.firstPosition, lastPosition: stored.lastPosition, repeated: true)
    }

    // MARK: Loading state

    struct Loaded<State> {
        var state: State
        var version: Int64
    }

    func load<D: Decider>(_ decider: D.Type, tenant: TenantID, stream: StreamName) async throws -> Loaded<D.State> where D.Event == DomainEvent {
        try fold(D.self, stream, tenant: tenant, in: try await history(tenant: tenant, [stream]))
    }

    static func fold<D: Decider>(_ decider: D.Type, _ events: [RecordedEvent]?) throws -> Loaded<D.State> where D.Event == DomainEvent {
        let events = events ?? []
        return Loaded(state: D.fold(try events.map { try $0.decoded() }), version: events.last?.version ?? 0)
    }
}

// MARK: - Tenants

extension CommandService {
    /// Onboards a customer (Dynamic). Refusals: see `TenantDecider`.
    public func onboardTenant(_ command: OnboardTenant, context: CommandContext) async throws -> CommandOutcome<Tenant> {
        let fingerprint = ["onboard", String(decoding: try JSONCoding.encoder().encode(OnboardFingerprint(command)), as: UTF8.self)]
        return try await execute(tenant: command.tenantID, context: context, fingerprint: fingerprint) {
            let loaded = try await load(TenantDecider.self, tenant: command.tenantID, stream: .tenant)
            var c = command
            c.at = time.now()
            let events = try TenantDecider.decide(.onboard(c), loaded.state)
            guard case .tenantOnboarded(let e)? = events.first else { throw DomainError(.invalidField, .invalid, "nothing decided") }
            return Decision(
                events: events.map { EventToAppend($0, metadata: context.metadata) },
                expectations: [.tenant: .at(loaded.version)], result: e.tenant)
        }
    }

    /// The command without its time, to fingerprint a request.
    struct OnboardFingerprint: Encodable {
        var c: OnboardTenant
        init(_ c: OnboardTenant) {
            self.c = c
            self.c.at = Date(timeIntervalSince1970: 0)
        }
    }
}

// MARK: - Signals

/// What one ingest request did, signal by signal.
public struct IngestReport: Codable, Sendable, Equatable {
    public struct Item: Codable, Sendable, Equatable {
        public var index: Int
        public var outcome: SignalOutcome
        public var signalID: SignalID?
        public var code: String?
        public var reason: String?
    }

    public var accepted: Int
    public var duplicates: Int
    public var updated: Int
    /// New signals a suppression rule matched: stored and counted for the report, not escalated.
    public var suppressed: Int
    public var rejected: Int
    public var items: [Item]
}

extension IngestReport {
    /// Reports stored before suppression existed (idempotent replays) have no `suppressed`: it was 0.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        accepted = try c.decode(Int.self, forKey: .accepted)
        duplicates = try c.decode(Int.self, forKey: .duplicates)
        updated = try c.decode(Int.self, forKey: .updated)
        suppressed = try c.decodeIfPresent(Int.self, forKey: .suppressed) ?? 0
        rejected = try c.decode(Int.self, forKey: .rejected)
        items = try c.decode([Item].self, forKey: .items)
    }
}

extension CommandService {
    /// Ingests a batch of signals in the native JSON form into one tenant. Each signal is accepted, a duplicate, an
    /// update or rejected on its own: one bad signal never loses the others. All good ones are appended in one
    /// transaction.
    public func ingestNativeSignals(tenant: TenantID, body: Data, context: CommandContext) async throws -> CommandOutcome<IngestReport> {
        try await ingest(tenant: tenant, format: "ingest", request: String(decoding: body, as: UTF8.self), context: context) {
            try NativeSignalParser.parseBatch(body)
        }
    }

    /// Ingests a batch of Microsoft Graph security alerts (v2): a JSON array, a `{"value": [ … ]}` list response or
    /// NDJSON (one alert per line). Each alert is judged on its own, as for native signals.
    public func ingestGraphAlerts(tenant: TenantID, body: Data, context: CommandContext) async throws -> CommandOutcome<IngestReport> {
        try await ingest(tenant: tenant, format: "ingest-graph", request: String(decoding: body, as: UTF8.self), context: context) {
            try GraphAlertParser.parseBatch(body)
        }
    }

    /// Ingests CEF events, one per line (as received over syslog). A line without a usable `rt` is timed by the
    /// time source. Each line is judged on its own; its index is its 0-based line number.
    public func ingestCEF(tenant: TenantID, text: String, context: CommandContext) async throws -> CommandOutcome<IngestReport> {
        let receivedAt = time.now()
        return try await ingest(tenant: tenant, format: "ingest-cef", request: text, context: context) {
            CEFParser.parseLines(text, receivedAt: receivedAt)
        }
    }

    /// Ingests CEF events received as bytes (the HTTP route): a line that is not valid UTF-8 is rejected on its own.
    public func ingestCEF(tenant: TenantID, utf8 body: [UInt8], context: CommandContext) async throws -> CommandOutcome<IngestReport> {
        let receivedAt = time.now()
        return try await ingest(tenant: tenant, format: "ingest-cef", request: String(decoding: body, as: UTF8.self), context: context) {
            CEFParser.parseLines(utf8: body, receivedAt: receivedAt)
        }
    }

    /// The one path of every ingest format: parse, check the batch size, then run as a command whose fingerprint is
    /// the format, the tenant and the request as received.
    private func ingest(
        tenant: TenantID, format: String, request: @autoclosure () -> String, context: CommandContext, parse: () throws -> ParsedBatch
    ) async throws -> CommandOutcome<IngestReport> {
        let parsed = try parse()
        guard parsed.count > 0 else { throw DomainError(.batchEmpty, .invalid, "the batch holds no signals") }
        guard parsed.count <= maxBatchSize else {
            throw DomainError(.batchTooLarge, .invalid, "a batch holds at most \(maxBatchSize) signals; this one holds \(parsed.count): split it")
        }
        let outcome = try await execute(tenant: tenant, context: context, fingerprint: [format, tenant.rawValue, request()]) {
            try await decideIngest(tenant: tenant, parsed: parsed, context: context)
        }
        if !outcome.repeated {
            await countFiltered(tenant: tenant, parsed: parsed, report: outcome.result, rejectedSource: format == "ingest-cef" ? .firewall : nil)
        }
        return outcome
    }

    /// Adds the batch's duplicates and rejections, which append nothing, to the report's noise counters. Best effort:
    /// the batch is already committed, and a lost count must not turn its answer into an error (or a retry into a
    /// double count).
    private func countFiltered(tenant: TenantID, parsed: ParsedBatch, report: IngestReport, rejectedSource: SignalSource?) async {
        guard report.duplicates > 0 || report.rejected > 0 else { return }
        let day = BusinessClock.standard.localDate(of: time.now())
        let sources = Dictionary(parsed.signals.map { ($0.index, $0.signal.source) }, uniquingKeysWith: { first, _ in first })
        var counts: [FilteredSignalCount] = []
        for item in report.items {
            let source: SignalSource?
            let outcome: FilteredSignalCount.Outcome
            switch item.outcome {
            case .duplicate: (source, outcome) = (sources[item.index], .duplicate)
            case .rejected: (source, outcome) = (rejectedSource, .rejected)
            default: continue
            }
            if let i = counts.firstIndex(where: { $0.source == source && $0.outcome == outcome }) {
                counts[i].signals += 1
            } else {
                counts.append(FilteredSignalCount(day: day, source: source, outcome: outcome, signals: 1))
            }
        }
        try? await store.addFilteredSignals(tenant: tenant, counts)
    }

    func decideIngest(tenant: TenantID, parsed: ParsedBatch, context: CommandContext) async throws -> Decision<IngestReport> {
        let now = time.now()
        let streams = Array(Set(parsed.signals.map(\.signal.stream)))
        let history = try await history(tenant: tenant, streams + [.tenant, .suppressionRules])
        guard try fold(TenantDecider.self, .tenant, tenant: tenant, in: history).state != nil else {
            throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenant)' not found: onboard it first")
        }
        let rules = try fold(SuppressionDecider.self, .suppressionRules, tenant: tenant, in: history)
        var states: [StreamName: SignalDecider.State] = [:]
        var expectations: [StreamName: ExpectedVersion] = [:]
        for stream in streams {
            let loaded = try Self.fold(SignalDecider.self, history.events[stream])
            states[stream] = loaded.state
            expectations[stream] = .at(loaded.version)
        }
        var items: [IngestReport.Item] = parsed.rejections.map {
            IngestReport.Item(index: $0.index, outcome: .rejected, signalID: nil, code: $0.code.rawValue, reason: $0.reason)
        }
        var events: [EventToAppend] = []
        let notes = Dictionary(parsed.notes.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, signal) in parsed.signals {
            let stream = signal.stream
            let state = states[stream] ?? SignalDecider.initialState
            let suppressedBy = rules.state.matching(signal, at: now)?.id
            let decided = try SignalDecider.decide(
                .init(signal: signal, newID: SignalID(rawValue: UUID()), receivedAt: now, suppressedBy: suppressedBy), state)
            let next = SignalDecider.fold(decided, from: state)
            states[stream] = next
            events += decided.map { EventToAppend($0, stream: stream, metadata: context.metadata) }
            let note = notes[index]
            items.append(
                IngestReport.Item(
                    index: index, outcome: SignalDecider.outcome(of: decided), signalID: next.signalID, code: note?.code.rawValue, reason: note?.reason))
        }
        items.sort { $0.index < $1.index }
        let report = IngestReport(
            accepted: items.count { $0.outcome == .accepted }, duplicates: items.count { $0.outcome == .duplicate },
            updated: items.count { $0.outcome == .updated }, suppressed: items.count { $0.outcome == .suppressed },
            rejected: items.count { $0.outcome == .rejected }, items: items)
        // The tenant must still exist at commit; signal streams must not have moved (a concurrent copy of the same alert);
        // nor the suppression rules the signals were judged by.
        let touched = Set(events.map(\.stream))
        var expected = expectations.filter { touched.contains($0.key) }
        if !events.isEmpty { expected[.suppressionRules] = .at(rules.version) }
        return Decision(events: events, expectations: expected, result: report)
    }
}

// MARK: - Suppression rules

extension CommandService {
    /// Adds a suppression rule to a tenant (SOC, during tuning and later). Refusals: see `SuppressionDecider`.
    public func addSuppressionRule(
        tenant: TenantID, match: SuppressionMatch, reason: String, expiresAt: Date?, context: CommandContext
    ) async throws -> CommandOutcome<SuppressionRule> {
        let id = UUID()
        let matchJSON = String(decoding: try JSONCoding.encoder().encode(match), as: UTF8.self)
        let expiry = expiresAt.map { String($0.timeIntervalSince1970) } ?? "-"
        return try await execute(tenant: tenant, context: context, fingerprint: ["suppression-add", matchJSON, reason, expiry]) {
            let history = try await history(tenant: tenant, [.tenant, .suppressionRules])
            guard try fold(TenantDecider.self, .tenant, tenant: tenant, in: history).state != nil else {
                throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenant)' not found")
            }
            let loaded = try fold(SuppressionDecider.self, .suppressionRules, tenant: tenant, in: history)
            let events = try SuppressionDecider.decide(
                .add(id: id, match: match, reason: reason, expiresAt: expiresAt, by: context.principal, at: time.now()), loaded.state)
            guard let rule = SuppressionDecider.fold(events, from: loaded.state).rule(id) else {
                throw DomainError(.suppressionRuleNotFound, .notFound, "nothing decided")
            }
            return Decision(
                events: events.map { EventToAppend($0, metadata: context.metadata) },
                expectations: [.suppressionRules: .at(loaded.version)], result: rule)
        }
    }

    /// Expires a suppression rule now: later signals are no longer suppressed by it.
    public func expireSuppressionRule(tenant: TenantID, rule: UUID, context: CommandContext) async throws -> CommandOutcome<SuppressionRule> {
        try await execute(tenant: tenant, context: context, fingerprint: ["suppression-expire", rule.uuidString.lowercased()]) {
            let history = try await history(tenant: tenant, [.tenant, .suppressionRules])
            guard try fold(TenantDecider.self, .tenant, tenant: tenant, in: history).state != nil else {
                throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenant)' not found")
            }
            let loaded = try fold(SuppressionDecider.self, .suppressionRules, tenant: tenant, in: history)
            let events = try SuppressionDecider.decide(.expire(id: rule, by: context.principal, at: time.now()), loaded.state)
            guard let result = SuppressionDecider.fold(events, from: loaded.state).rule(rule) else {
                throw DomainError(.suppressionRuleNotFound, .notFound, "suppression rule not found")
            }
            return Decision(
                events: events.map { EventToAppend($0, metadata: context.metadata) },
                expectations: [.suppressionRules: .at(loaded.version)], result: result)
        }
    }
}

// MARK: - Incidents

extension CommandService {
    public func confirmIncident(
        tenant: TenantID, incident: IncidentID, priority: Priority, summary: String, context: CommandContext
    ) async throws -> CommandOutcome<Incident> {
        try await triage(tenant: tenant, incident: incident, context: context, fingerprint: ["confirm", priority.rawValue, summary]) {
            .confirm(priority: priority, summary: summary, by: context.principal, at: $0)
        }
    }

    public func dismissIncident(
        tenant: TenantID, incident: IncidentID, classification: DismissalClassification, reason: String, context: CommandContext
    ) async throws -> CommandOutcome<Incident> {
        try await triage(tenant: tenant, incident: incident, context: context, fingerprint: ["dismiss", classification.rawValue, reason]) {
            .dismiss(classification: classification, reason: reason, by: context.principal, at: $0)
        }
    }

    public func resolveIncident(tenant: TenantID, incident: IncidentID, resolution: String, context: CommandContext) async throws
        -> CommandOutcome<Incident>
    {
        try await triage(tenant: tenant, incident: incident, context: context, fingerprint: ["resolve", resolution]) {
            .resolve(resolution: resolution, by: context.principal, at: $0)
        }
    }

    /// Gives the incident to an analyst (a principal id), or unassigns it (nil).
    public func assignIncident(tenant: TenantID, incident: IncidentID, to assignee: String?, context: CommandContext) async throws
        -> CommandOutcome<Incident>
    {
        try await triage(tenant: tenant, incident: incident, context: context, fingerprint: ["assign", assignee ?? ""]) {
            .assign(to: assignee, by: context.principal, at: $0)
        }
    }

    /// Adds a working note, scrubbed of secrets first (`ContentScrubber`: credentials, URL query strings): the SOC
    /// pastes command lines and links into notes, and the log keeps what it is given for years.
    public func addIncidentNote(tenant: TenantID, incident: IncidentID, text: String, context: CommandContext) async throws
        -> CommandOutcome<Incident>
    {
        let scrubbed = ContentScrubber.redactCommandLine(text)
        return try await triage(tenant: tenant, incident: incident, context: context, fingerprint: ["note", text]) {
            .addNote(text: scrubbed, by: context.principal, at: $0)
        }
    }

    /// Merges `incident` into `into` (two incidents found to be one attack): `into` takes its signals, `incident` closes
    /// as merged. The result is the incident that remains. Refusals: `IncidentMerge.decide`.
    public func mergeIncident(
        tenant: TenantID, incident: IncidentID, into: IncidentID, reason: String, context: CommandContext
    ) async throws -> CommandOutcome<Incident> {
        try await execute(tenant: tenant, context: context, fingerprint: [incident.description, "merge", into.description, reason]) {
            let absorbedStream = StreamName.incident(incident), survivorStream = StreamName.incident(into)
            let history = try await history(tenant: tenant, [absorbedStream, survivorStream])
            let absorbed = try fold(IncidentDecider.self, absorbedStream, tenant: tenant, in: history)
            let survivor = try fold(IncidentDecider.self, survivorStream, tenant: tenant, in: history)
            let events = try IncidentMerge.decide(absorbed.state, into: survivor.state, reason: reason, by: context.principal, at: time.now())
            guard let result = IncidentDecider.fold(events.filter { $0.stream == survivorStream }, from: survivor.state) else {
                throw DomainError(.incidentNotFound, .notFound, "incident not found")
            }
            return Decision(
                events: events.map { EventToAppend($0, metadata: context.metadata) },
                expectations: [absorbedStream: .at(absorbed.version), survivorStream: .at(survivor.version)], result: result)
        }
    }

    private func triage(
        tenant: TenantID, incident: IncidentID, context: CommandContext, fingerprint: [String],
        command: @escaping (Date) -> IncidentDecider.Command
    ) async throws -> CommandOutcome<Incident> {
        try await execute(tenant: tenant, context: context, fingerprint: [incident.description] + fingerprint) {
            let stream = StreamName.incident(incident)
            let loaded = try await load(IncidentDecider.self, tenant: tenant, stream: stream)
            let events = try IncidentDecider.decide(command(time.now()), loaded.state)
            guard let state = IncidentDecider.fold(events, from: loaded.state) else {
                throw DomainError(.incidentNotFound, .notFound, "incident not found")
            }
            return Decision(
                events: events.map { EventToAppend($0, metadata: context.metadata) }, expectations: [stream: .at(loaded.version)],
                result: state)
        }
    }
}

// MARK: - Devices

extension CommandService {
    /// Requests isolation of a device for a confirmed incident. The device is then *isolation pending* until the EDR
    /// reports success or failure.
    public func isolateDevice(
        tenant: TenantID, device: DeviceID, incident: IncidentID, type: IsolationType, comment: String, context: CommandContext
    ) async throws -> CommandOutcome<DeviceIsolation> {
        try await execute(
            tenant: tenant, context: context, fingerprint: ["isolate", device.rawValue, incident.description, type.rawValue, comment]
        ) {
            let decided = try await decideIntervention(tenant: tenant, device: device, incident: incident) { incident, tenantState, at in
                .isolate(deviceID: device, incident: incident, tenant: tenantState, type: type, comment: comment, by: context.principal, at: at)
            }
            let result = DeviceDecider.fold(decided.events, from: decided.device).device ?? DeviceIsolation(deviceID: device)
            return Decision(
                events: decided.events.map { EventToAppend($0, metadata: context.metadata) }, expectations: decided.expectations, result: result)
        }
    }

    /// Loads what an intervention on a device is decided on — the tenant (its consent), the incident that justifies it
    /// and the device — decides `command`, and names the versions the append must find: consent, the incident and the
    /// device must all be as they were when it was decided.
    func decideIntervention(
        tenant: TenantID, device: DeviceID, incident: IncidentID, _ command: (Incident?, Tenant?, Date) -> DeviceDecider.Command
    ) async throws -> (events: [DomainEvent], device: DeviceDecider.State, expectations: [StreamName: ExpectedVersion]) {
        let incidentStream = StreamName.incident(incident), deviceStream = StreamName.device(device)
        let history = try await history(tenant: tenant, [.tenant, incidentStream, deviceStream])
        let tenantState = try fold(TenantDecider.self, .tenant, tenant: tenant, in: history)
        guard tenantState.state != nil else { throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenant)' not found") }
        let incidentState = try fold(IncidentDecider.self, incidentStream, tenant: tenant, in: history)
        let deviceState = try fold(DeviceDecider.self, deviceStream, tenant: tenant, in: history)
        let events = try DeviceDecider.decide(command(incidentState.state, tenantState.state, time.now()), deviceState.state)
        return (
            events, deviceState.state,
            [.tenant: .at(tenantState.version), incidentStream: .at(incidentState.version), deviceStream: .at(deviceState.version)]
        )
    }

    /// Requests release of an isolated (or isolation-pending) device, recording who and why.
    public func releaseDevice(tenant: TenantID, device: DeviceID, reason: String, context: CommandContext) async throws
        -> CommandOutcome<DeviceIsolation>
    {
        try await execute(tenant: tenant, context: context, fingerprint: ["release", device.rawValue, reason]) {
            let stream = StreamName.device(device)
            let history = try await history(tenant: tenant, [.tenant, stream])
            guard try fold(TenantDecider.self, .tenant, tenant: tenant, in: history).state != nil else {
                throw DomainError(.tenantNotFound, .notFound, "tenant '\(tenant)' not found")
            }
            let loaded = try fold(DeviceDecider.self, stream, tenant: tenant, in: history)
            let events = try DeviceDecider.decide(.release(deviceID: device, reason: reason, by: context.principal, at: time.now()), loaded.state)
            let result = DeviceDecider.fold(events, from: loaded.state).device ?? DeviceIsolation(deviceID: device)
            return Decision(
                events: events.map { EventToAppend($0, metadata: context.metadata) }, expectations: [stream: .at(loaded.version)],
                result: result)
        }
    }
}
