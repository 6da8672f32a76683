/// The Decider pattern (J. Chassaing): an aggregate is an initial state, a pure `decide` that turns a command
/// and the current state into new events or a typed refusal, and a pure `evolve` that folds an event into the
/// state. Every business rule is therefore a one-line test without a database.
public protocol Decider {
    associatedtype State: Sendable
    associatedtype Command
    associatedtype Event

    static var initialState: State { get }
    static func decide(_ command: Command, _ state: State) throws(DomainError) -> [Event]
    static func evolve(_ state: State, _ event: Event) -> State
}

extension Decider {
    /// Folds a history of events into a state.
    public static func fold<S: Sequence>(_ events: S, from state: State = initialState) -> State where S.Element == Event {
        events.reduce(state, evolve)
    }
}
