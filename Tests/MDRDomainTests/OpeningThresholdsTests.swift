import Foundation
import Testing

@testable import MDRDomain

/// The SOC's tuning of a tenant's opening thresholds (issue 15): recorded on the tenant, validated, and an unchanged
/// setting records nothing.
@Suite struct OpeningThresholdsTests {
    let at = Fixtures.t0(plusMinutes: 5)
    let by = Fixtures.analyst

    @Test func thresholdsAreRecordedOrderedBySourceAndShownOnTheTenant() throws {
        let tenant = Fixtures.tenant()
        let thresholds = [OpeningThreshold(source: .firewall, severity: .low), OpeningThreshold(source: .endpoint, severity: .medium)]
        let events = try TenantDecider.decide(.setOpeningThresholds(thresholds, reason: " tuning period ", by: by, at: at), tenant)
        #expect(events == [
            .openingThresholdsSet(
                OpeningThresholdsSet(thresholds: thresholds.reversed(), reason: "tuning period", setBy: by.id, setAt: at))
        ])
        let tuned = try #require(TenantDecider.fold(events, from: tenant))
        #expect(tuned.openingThresholds == thresholds.reversed())
        #expect(try TenantDecider.decide(.setOpeningThresholds(thresholds, reason: "again", by: by, at: at), tuned).isEmpty)
        // An empty list goes back to the defaults.
        let reset = TenantDecider.fold(try TenantDecider.decide(.setOpeningThresholds([], reason: "tuned", by: by, at: at), tuned), from: tuned)
        #expect(reset?.openingThresholds == nil)
    }

    @Test func informationalASourceTwiceAndNoReasonAreRefused() {
        let tenant = Fixtures.tenant()
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(
                .setOpeningThresholds([OpeningThreshold(source: .antivirus, severity: .informational)], reason: "x", by: by, at: at), tenant)
        }
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(
                .setOpeningThresholds(
                    [OpeningThreshold(source: .firewall, severity: .low), OpeningThreshold(source: .firewall, severity: .high)], reason: "x",
                    by: by, at: at), tenant)
        }
        expectRefusal(.reasonMissing, .invalid) { () throws(DomainError) in
            try TenantDecider.decide(.setOpeningThresholds([OpeningThreshold(source: .firewall, severity: .low)], reason: " ", by: by, at: at), tenant)
        }
        expectRefusal(.tenantNotFound, .notFound) { () throws(DomainError) in
            try TenantDecider.decide(.setOpeningThresholds([], reason: "x", by: by, at: at), nil)
        }
    }
}
