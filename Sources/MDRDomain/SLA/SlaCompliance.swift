import Foundation

/// Compliance figures over a set of timers (typically those of one tenant, SLA and month).
public struct SlaComplianceFigures: Hashable, Sendable, Codable {
    /// Timers decided at the report instant: stopped, or overdue.
    public var decided: Int
    public var met: Int
    public var breached: Int
    /// Timers still running before their deadline: not counted in the share.
    public var running: Int
    /// `met / decided`, or nil when nothing was decided.
    public var shareMet: Double?
    /// Mean of the stopped timers' elapsed time on their own clock (business seconds for business-clock targets).
    public var meanSeconds: Double?
    /// 90th percentile (nearest rank) of the same.
    public var p90Seconds: Double?
}

/// The compliance report of a set of timers.
public struct SlaComplianceReport: Hashable, Sendable, Codable {
    /// Per target kind, all priorities together.
    public var perTarget: [SlaTargetKind: SlaComplianceFigures]
    /// Per target kind and priority: the rows of the policy table.
    public var perTargetAndPriority: [SlaTargetKind: [Priority: SlaComplianceFigures]]
    /// Mean time to acknowledge: opened → confirmed or dismissed, real seconds; nil without stopped triage timers (a
    /// merge is no acknowledgement).
    public var mttaSeconds: Double?
    /// Mean time to contain: confirmed → device isolated, real seconds; nil without isolations. Contain timers
    /// stopped by a resolution without isolation are left out (nothing was contained).
    public var mttcSeconds: Double?
    /// The breached timers, for links to their incidents.
    public var breaches: [SlaTimer]
}

/// Compliance math: share met, mean and p90 per target, MTTA and MTTC. Pure; the caller picks the timers (a
/// tenant's, an SLA's, a month's).
public enum SlaCompliance {
    /// The report of `timers` as they stand at `now`.
    ///
    /// A timer stopped by a merge in time is left out: nothing was met, the other incident's timer counts. One that
    /// was already overdue at the merge counts as breached.
    public static func report(_ timers: [SlaTimer], at now: Date) -> SlaComplianceReport {
        let timers = timers.filter { !($0.stoppedBy == .merged && $0.status(at: now) != .breached) }
        var perTarget: [SlaTargetKind: SlaComplianceFigures] = [:]
        var perTargetAndPriority: [SlaTargetKind: [Priority: SlaComplianceFigures]] = [:]
        for (target, group) in Dictionary(grouping: timers, by: \.target) {
            perTarget[target] = figures(group, at: now)
            perTargetAndPriority[target] = Dictionary(grouping: group, by: \.priority).mapValues { figures($0, at: now) }
        }
        let acknowledged = timers.filter { $0.target == .triage && $0.stoppedBy != .merged }.compactMap { t in t.stoppedAt.map { $0.timeIntervalSince(t.startedAt) } }
        let contained = timers.filter { $0.target == .contain && $0.stoppedBy == .contained }
            .compactMap { t in t.stoppedAt.map { $0.timeIntervalSince(t.startedAt) } }
        let breaches = timers.filter { $0.status(at: now) == .breached }
            .sorted { ($0.deadline, $0.incidentID.description, $0.target) < ($1.deadline, $1.incidentID.description, $1.target) }
        return SlaComplianceReport(
            perTarget: perTarget, perTargetAndPriority: perTargetAndPriority, mttaSeconds: mean(acknowledged),
            mttcSeconds: mean(contained), breaches: breaches)
    }

    /// The figures of one group of timers at `now`.
    public static func figures(_ timers: [SlaTimer], at now: Date) -> SlaComplianceFigures {
        var met = 0, breached = 0, running = 0
        for timer in timers {
            switch timer.status(at: now) {
            case .met: met += 1
            case .breached: breached += 1
            case .running: running += 1
            }
        }
        let decided = met + breached
        let times = timers.compactMap(\.elapsed)
        return SlaComplianceFigures(
            decided: decided, met: met, breached: breached, running: running,
            shareMet: decided == 0 ? nil : Double(met) / Double(decided), meanSeconds: mean(times),
            p90Seconds: percentile(90, of: times))
    }

    /// The arithmetic mean, or nil for no values.
    public static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// The `p`th percentile by the nearest-rank method (the smallest value with at least p % of the values at or
    /// below it), or nil for no values.
    public static func percentile(_ p: Int, of values: [Double]) -> Double? {
        precondition((1...100).contains(p), "percentile must be 1…100")
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = (p * sorted.count + 99) / 100  // ceil(p/100 · n), exact in integers
        return sorted[rank - 1]
    }
}
