import Foundation
import Testing

@testable import MDRDomain

/// Dynamic's portfolio (issue 17): one entry per tenant as of a date, from its own streams.
@Suite struct PortfolioTests {
    /// A Compliant tenant from 2026-12-01 with a workstation and a server; notice received on 2027-02-10 and recorded
    /// on 2027-02-12.
    static func tenant() throws -> (Tenant, DeviceInventory) {
        let tenant = Fixtures.tenant()
        let notice = try TenantDecider.decide(
            .giveNotice(
                receivedOn: CalendarDate("2027-02-10")!, channel: .email, by: Fixtures.dynamicStaff, at: Fixtures.time("2027-02-12T09:00:00+01:00")),
            tenant)
        let inventory = DeviceInventoryDecider.fold([
            .deviceEnrolled(
                DeviceEnrolled(
                    deviceID: Fixtures.ws42, kind: .workstation, name: nil, monitoredFrom: Fixtures.time("2026-12-02T08:00:00Z"), enrolledBy: "x",
                    recordedAt: Fixtures.time("2026-12-02T08:00:00Z"))),
            .deviceEnrolled(
                DeviceEnrolled(
                    deviceID: Fixtures.srv01, kind: .server, name: nil, monitoredFrom: Fixtures.time("2026-12-05T08:00:00Z"), enrolledBy: "x",
                    recordedAt: Fixtures.time("2026-12-05T08:00:00Z"))),
        ])
        return (try #require(TenantDecider.fold(notice, from: tenant)), inventory)
    }

    @Test func anEntryShowsTheContractAsKnownOnTheDateAndTheDevicesMonitoredThatDay() throws {
        let (tenant, inventory) = try Self.tenant()
        let early = PortfolioEntry(tenant: tenant, inventory: inventory, openIncidents: 2, on: CalendarDate("2026-12-03")!)
        #expect(early.contractPhase == .initial && early.endDate == nil)
        #expect(early.workstations == 1 && early.servers == 0, "the server was enrolled on the 5th")
        #expect(early.openIncidents == 2 && early.onboarding == .onboarded && early.sla == .a)
        #expect(early.initialTermEnd == CalendarDate("2027-12-01")!)
        // Received on the 10th, recorded on the 12th: not known on the 11th.
        let before = PortfolioEntry(tenant: tenant, inventory: inventory, openIncidents: 0, on: CalendarDate("2027-02-11")!)
        #expect(before.contractPhase == .initial && before.noticeReceivedOn == nil)
        let after = PortfolioEntry(tenant: tenant, inventory: inventory, openIncidents: 0, on: CalendarDate("2027-02-12")!)
        #expect(after.contractPhase == .underNotice && after.endDate == CalendarDate("2027-12-01")!)
        #expect(after.workstations == 1 && after.servers == 1)
    }

    @Test func filtersNarrowByPhasePackageEndAndOnboarding() throws {
        let (tenant, inventory) = try Self.tenant()
        let entry = PortfolioEntry(tenant: tenant, inventory: inventory, openIncidents: 0, on: CalendarDate("2027-03-01")!)
        #expect(PortfolioFilter().matches(entry))
        #expect(PortfolioFilter(phase: .underNotice, package: .compliant, onboarding: .onboarded).matches(entry))
        #expect(!PortfolioFilter(phase: .initial).matches(entry))
        #expect(!PortfolioFilter(package: .veilig).matches(entry))
        #expect(PortfolioFilter(endsBefore: CalendarDate("2027-12-02")!).matches(entry))
        #expect(!PortfolioFilter(endsBefore: CalendarDate("2027-12-01")!).matches(entry), "ends on the 1st: not before it")
        #expect(!PortfolioFilter(onboarding: .monitoringActive).matches(entry))
        let noNotice = PortfolioEntry(tenant: Fixtures.tenant(), inventory: inventory, openIncidents: 0, on: CalendarDate("2027-03-01")!)
        #expect(!PortfolioFilter(endsBefore: CalendarDate("2099-01-01")!).matches(noNotice), "no end date: never ending before")
    }

    @Test func theCSVHasOneLinePerTenantAndIsFormulaSafe() throws {
        var (tenant, inventory) = try Self.tenant()
        tenant.name = "=HYPERLINK(\"x\"), B.V."
        let csv = PortfolioExport.csv([PortfolioEntry(tenant: tenant, inventory: inventory, openIncidents: 3, on: CalendarDate("2027-03-01")!)])
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines.first == PortfolioExport.header.joined(separator: ","))
        #expect(lines.count == 3 && lines[2].isEmpty)
        #expect(lines[1].hasPrefix("\(tenant.id.rawValue),\"'=HYPERLINK(\"\"x\"\"), B.V.\",compliant,A,included,onboarded,,2026-12-01,under_notice,"))
        #expect(lines[1].hasSuffix(",2027-12-01,2027-02-10,1,1,3,2027-03-01"))
    }
}
