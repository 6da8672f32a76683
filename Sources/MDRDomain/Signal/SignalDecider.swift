import Foundation

/// What happened to one signal of a batch.
public enum SignalOutcome: String, Sendable, Codable {
    /// New: stored.
    case accepted
    /// The same alert with the same content was stored before: nothing appended.
    case duplicate
    /// The same alert with a new status or severity: the update is stored.
    case updated
    /// New and matched by a suppression rule: stored (counted for the report) but not escalated.
    case suppressed
    /// Bad shape: nothing stored; the reason is reported with the signal's index in the batch.
    case rejected
}

/// One alert's history (stream `signal:<source>:<source alert id>`): deduplication and updates.
public enum SignalDecider: Decider {
    public struct State: Sendable, Equatable {
        public var signalID: SignalID?
        public var current: Signal?
        public init(signalID: SignalID? = nil, current: Signal? = nil) {
            self.signalID = signalID
            self.current = current
        }
    }

    public struct Command: Sendable {
        public var signal: Signal
        /// The id to give the signal if it is new (ids come in as values: the domain makes none).
        public var newID: SignalID
        public var receivedAt: Date
        /// The suppression rule that matches the signal, if any: a new signal is then stored marked as suppressed.
        public var suppressedBy: UUID?
        public init(signal: Signal, newID: SignalID, receivedAt: Date, suppressedBy: UUID? = nil) {
            self.signal = signal
            self.newID = newID
            self.receivedAt = receivedAt
            self.suppressedBy = suppressedBy
        }
    }
    public typealias Event = DomainEvent

    public static let initialState = State()

    public static func decide(_ command: Command, _ state: State) throws(DomainError) -> [DomainEvent] {
        let signal = command.signal
        guard let current = state.current, let id = state.signalID else {
            return [.signalIngested(SignalIngested(signalID: command.newID, signal: signal, receivedAt: command.receivedAt, suppressedBy: command.suppressedBy))]
        }
        if current.status == signal.status && current.severity == signal.severity {
            return []
        }
        return [
            .signalUpdated(
                SignalUpdated(
                    signalID: id, source: current.source, sourceAlertID: current.sourceAlertID, status: signal.status,
                    severity: signal.severity, receivedAt: command.receivedAt))
        ]
    }

    /// The outcome to report for a decision.
    public static func outcome(of events: [DomainEvent]) -> SignalOutcome {
        switch events.first {
        case .signalIngested(let e)?: e.suppressedBy == nil ? .accepted : .suppressed
        case .signalUpdated?: .updated
        default: .duplicate
        }
    }

    public static func evolve(_ state: State, _ event: DomainEvent) -> State {
        switch event {
        case .signalIngested(let e): return State(signalID: e.signalID, current: e.signal)
        case .signalUpdated(let e):
            var s = state
            s.current?.status = e.status
            s.current?.severity = e.severity
            return s
        default: return state
        }
    }
}
