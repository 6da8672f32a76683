import Foundation
import Testing

@testable import MDRDomain

/// Billing (DOMAIN.md, "Billing and reports"): workstations with monitoring active at any time in a calendar month
/// of Europe/Amsterdam, times the quoted price under Veilig; "included" under Compliant; servers listed apart.
@Suite struct BillingTests {
    static let price = 1_250
    static let ws1 = DeviceID(rawValue: "ws-1")!
    static let ws2 = DeviceID(rawValue: "ws-2")!
    static let ws3 = DeviceID(rawValue: "ws-3")!
    static let srv = DeviceID(rawValue: "srv-1")!

    static func t(_ raw: String) -> Date { Fixtures.time(raw) }
    static func month(_ raw: String) -> BillingMonth { BillingMonth(raw)! }

    /// A tenant whose contract starts on `start` and whose monitoring became active at `active`.
    static func tenant(
        _ package: ServicePackage = .veilig, start: String = "2026-10-01", active: String? = "2026-10-01T08:00:00Z", notice: String? = nil
    ) -> Tenant {
        var tenant = Fixtures.tenant(package, price: package == .veilig ? price : nil)
        tenant.contractStart = CalendarDate(start)!
        var progress = OnboardingProgress()
        progress.monitoringActiveSince = active.map(t)
        tenant.onboarding = progress
        tenant.notice = notice.map { ContractNotice(receivedOn: CalendarDate($0)!, channel: .letter, recordedBy: "dynamic:piet", recordedAt: Fixtures.t0) }
        return tenant
    }

    /// An inventory built through the decider: `(device, kind, from, until?)`.
    static func inventory(_ devices: [(DeviceID, DeviceKind, String, String?)]) -> DeviceInventory {
        var state = DeviceInventory()
        for (id, kind, from, until) in devices {
            let enrol = UpdateDeviceInventory(enrol: [.init(deviceID: id, kind: kind)], offboard: [], effectiveAt: t(from), by: "c", at: t(from))
            state = DeviceInventoryDecider.fold(try! DeviceInventoryDecider.decide(enrol, state), from: state)
            if let until {
                let off = UpdateDeviceInventory(enrol: [], offboard: [.init(deviceID: id)], effectiveAt: t(until), by: "c", at: t(until))
                state = DeviceInventoryDecider.fold(try! DeviceInventoryDecider.decide(off, state), from: state)
            }
        }
        return state
    }

    // MARK: Months

    @Test(arguments: ["2026-11", "1999-01", "2027-12"])
    func aMonthIsWrittenYearDashMonth(raw: String) {
        #expect(BillingMonth(raw)?.description == raw)
    }

    @Test(arguments: ["2026-13", "2026-00", "2026-1", "26-11", "2026-11-01", "2026/11", "", "+026-11", "2026-1a"])
    func anythingElseIsRefusedAsAnInvalidMonth(raw: String) {
        #expect(BillingMonth(raw) == nil)
        #expect(throws: DomainError.self) { try BillingMonth.parse(raw) }
    }

    @Test func monthBoundsAreAmsterdamMidnightsAcrossDaylightSavingChanges() {
        // November starts in winter time (UTC+1); April starts in summer time (UTC+2); October spans the change.
        #expect(Billing.bounds(of: Self.month("2026-11")) == (Self.t("2026-10-31T23:00:00Z"), Self.t("2026-11-30T23:00:00Z")))
        #expect(Billing.bounds(of: Self.month("2026-10")) == (Self.t("2026-09-30T22:00:00Z"), Self.t("2026-10-31T23:00:00Z")))
        #expect(Billing.bounds(of: Self.month("2027-04")).start == Self.t("2027-03-31T22:00:00Z"))
        #expect(Self.month("2026-12").next == Self.month("2027-01"))
        // The last month a date can name has an end too.
        #expect(Billing.bounds(of: Self.month("9999-12")).end == Self.t("9999-12-31T23:00:00Z"))
    }

    // MARK: Lines

    @Test func veiligBillsEveryWorkstationMonitoredAtAnyTimeInTheMonthAtTheQuotedPrice() {
        let inventory = Self.inventory([
            (Self.ws1, .workstation, "2026-10-02T09:00:00Z", nil),
            (Self.ws2, .workstation, "2026-10-02T09:00:00Z", "2026-11-03T12:00:00Z"),  // left early in November: still billed
            (Self.ws3, .workstation, "2026-11-29T16:00:00Z", nil),  // arrived late in November: billed in full
            (Self.srv, .server, "2026-10-02T09:00:00Z", nil),
        ])
        let line = Billing.line(tenant: Self.tenant(), inventory: inventory, month: Self.month("2026-11"))
        #expect(line.status == .billable)
        #expect(line.charge == .perWorkstation)
        #expect(line.workstations == [Self.ws1, Self.ws2, Self.ws3])
        #expect(line.servers == [Self.srv], "servers are listed apart")
        #expect(line.unitPriceCents == Self.price)
        #expect(line.amountCents == 3 * Self.price, "servers are not priced per workstation")
        #expect(line.monitoredFrom == Self.t("2026-10-31T23:00:00Z"))
        #expect(line.monitoredUntil == Self.t("2026-11-30T23:00:00Z"))
        // December: ws2 is gone.
        let december = Billing.line(tenant: Self.tenant(), inventory: inventory, month: Self.month("2026-12"))
        #expect(december.workstations == [Self.ws1, Self.ws3])
        #expect(december.amountCents == 2 * Self.price)
    }

    @Test func theMonthOfADeviceIsTheAmsterdamMonthNotTheUtcOne() {
        let inventory = Self.inventory([
            // 30 November 23:30 UTC is 1 December 00:30 in Amsterdam.
            (Self.ws1, .workstation, "2026-11-30T23:30:00Z", nil),
            // Offboarded at exactly Amsterdam midnight of 1 November: monitored not one instant of November.
            (Self.ws2, .workstation, "2026-10-05T10:00:00Z", "2026-10-31T23:00:00Z"),
            // One second later: monitored in November.
            (Self.ws3, .workstation, "2026-10-05T10:00:00Z", "2026-10-31T23:00:01Z"),
        ])
        let november = Billing.line(tenant: Self.tenant(), inventory: inventory, month: Self.month("2026-11"))
        #expect(november.workstations == [Self.ws3])
        let december = Billing.line(tenant: Self.tenant(), inventory: inventory, month: Self.month("2026-12"))
        #expect(december.workstations == [Self.ws1])
    }

    @Test func midMonthActivationBillsOnlyDevicesMonitoredOnceMonitoringWasActive() {
        let tenant = Self.tenant(start: "2026-11-01", active: "2026-11-20T09:00:00Z")
        let inventory = Self.inventory([
            (Self.ws1, .workstation, "2026-11-02T09:00:00Z", "2026-11-10T09:00:00Z"),  // rolled out and removed before activation
            (Self.ws2, .workstation, "2026-11-02T09:00:00Z", nil),
            (Self.ws3, .workstation, "2026-11-25T09:00:00Z", nil),
        ])
        let line = Billing.line(tenant: tenant, inventory: inventory, month: Self.month("2026-11"))
        #expect(line.status == .billable)
        #expect(line.monitoredFrom == Self.t("2026-11-20T09:00:00Z"))
        #expect(line.workstations == [Self.ws2, Self.ws3])
        #expect(line.amountCents == 2 * Self.price)
        let october = Billing.line(tenant: tenant, inventory: inventory, month: Self.month("2026-10"))
        #expect(october.status == .contractNotStarted)
        #expect(october.workstations.isEmpty && october.amountCents == 0)
    }

    @Test func beforeMonitoringIsActiveNothingIsBilled() {
        let tenant = Self.tenant(active: nil)
        let inventory = Self.inventory([(Self.ws1, .workstation, "2026-10-02T09:00:00Z", nil)])
        let line = Billing.line(tenant: tenant, inventory: inventory, month: Self.month("2026-11"))
        #expect(line.status == .monitoringNotActive)
        #expect(line.workstations.isEmpty)
        #expect(line.amountCents == 0)
        // Activated after the month: the month is still not billed.
        let later = Billing.line(tenant: Self.tenant(active: "2026-12-01T10:00:00Z"), inventory: inventory, month: Self.month("2026-11"))
        #expect(later.status == .monitoringNotActive)
    }

    @Test func theEndingMonthIsBilledUpToTheEndDateAndNothingAfter() {
        // Initial term 2026-10-01 … 2027-10-01; notice received 2027-10-20 ends the contract on 2027-11-20.
        let tenant = Self.tenant(notice: "2027-10-20")
        let inventory = Self.inventory([
            (Self.ws1, .workstation, "2026-10-02T09:00:00Z", nil),
            (Self.ws2, .workstation, "2027-11-20T10:00:00Z", nil),  // enrolled after the end: not billed
        ])
        let november = Billing.line(tenant: tenant, inventory: inventory, month: Self.month("2027-11"))
        #expect(november.status == .billable)
        #expect(november.monitoredUntil == Self.t("2027-11-19T23:00:00Z"))
        #expect(november.workstations == [Self.ws1])
        let december = Billing.line(tenant: tenant, inventory: inventory, month: Self.month("2027-12"))
        #expect(december.status == .contractEnded)
        #expect(december.workstations.isEmpty && december.amountCents == 0)
    }

    @Test func compliantIncludesMdrInThePackagePriceButStillCountsWorkstations() {
        let inventory = Self.inventory([(Self.ws1, .workstation, "2026-10-02T09:00:00Z", nil), (Self.srv, .server, "2026-10-02T09:00:00Z", nil)])
        let line = Billing.line(tenant: Self.tenant(.compliant), inventory: inventory, month: Self.month("2026-11"))
        #expect(line.charge == .included)
        #expect(line.unitPriceCents == nil && line.amountCents == nil)
        #expect(line.workstations == [Self.ws1] && line.servers == [Self.srv])
    }

    // MARK: Export

    @Test func theCsvExportHasOneLinePerTenantWithEuroAmountsAndSafeFields() {
        let inventory = Self.inventory([(Self.ws1, .workstation, "2026-10-02T09:00:00Z", nil), (Self.ws2, .workstation, "2026-10-02T09:00:00Z", nil)])
        var veilig = Self.tenant()
        veilig.name = "Acme, \"the\" B.V."
        var compliant = Self.tenant(.compliant)
        compliant.id = Fixtures.globex
        compliant.name = "=HYPERLINK(\"x\")"
        let csv = BillingExport.csv([
            Billing.line(tenant: veilig, inventory: inventory, month: Self.month("2026-11")),
            Billing.line(tenant: compliant, inventory: DeviceInventory(), month: Self.month("2026-11")),
        ])
        #expect(
            csv == "month,tenant_id,tenant_name,package,mdr_status,charge,status,workstations,servers,unit_price_eur,amount_eur,currency\r\n"
                + "2026-11,acme-bv,\"Acme, \"\"the\"\" B.V.\",veilig,add_on,per_workstation,billable,2,0,12.50,25.00,EUR\r\n"
                + "2026-11,globex,\"'=HYPERLINK(\"\"x\"\")\",compliant,included,included,billable,0,0,,,EUR\r\n")
    }

    @Test(arguments: [(0, "0.00"), (5, "0.05"), (1_250, "12.50"), (125_000, "1250.00"), (-99, "-0.99")])
    func centsAreWrittenAsEuros(cents: Int, euros: String) {
        #expect(BillingExport.euros(cents) == euros)
    }
}

/// The device inventory (stream `device-inventory`): what is monitored, from when, as what kind.
@Suite struct DeviceInventoryDeciderTests {
    static let now = Fixtures.t0
    static func change(
        enrol: [UpdateDeviceInventory.Enrolment] = [], offboard: [UpdateDeviceInventory.Offboarding] = [], effectiveAt: Date? = nil
    ) -> UpdateDeviceInventory {
        UpdateDeviceInventory(enrol: enrol, offboard: offboard, effectiveAt: effectiveAt, by: "token:connector", at: now)
    }
    static func run(_ commands: [UpdateDeviceInventory]) throws -> DeviceInventory {
        try commands.reduce(DeviceInventory()) { state, c in DeviceInventoryDecider.fold(try DeviceInventoryDecider.decide(c, state), from: state) }
    }
    static func refusal(_ c: UpdateDeviceInventory, after history: [UpdateDeviceInventory] = []) throws -> DomainError.Code? {
        let state = try run(history)
        do {
            _ = try DeviceInventoryDecider.decide(c, state)
            return nil
        } catch { return error.code }
    }

    @Test func enrollingRecordsTheKindTheNameAndWhenMonitoringBegan() throws {
        let backdated = Self.now.addingTimeInterval(-86_400)
        let events = try DeviceInventoryDecider.decide(
            Self.change(enrol: [.init(deviceID: Fixtures.ws42, kind: .workstation, name: " WS-42 "), .init(deviceID: Fixtures.srv01, kind: .server)],
                        effectiveAt: backdated), DeviceInventory())
        #expect(events == [
            .deviceEnrolled(DeviceEnrolled(deviceID: Fixtures.ws42, kind: .workstation, name: "WS-42", monitoredFrom: backdated, enrolledBy: "token:connector", recordedAt: Self.now)),
            .deviceEnrolled(DeviceEnrolled(deviceID: Fixtures.srv01, kind: .server, name: nil, monitoredFrom: backdated, enrolledBy: "token:connector", recordedAt: Self.now)),
        ])
    }

    @Test func aRepeatedSyncOfTheSameDevicesRecordsNothing() throws {
        let sync = Self.change(enrol: [.init(deviceID: Fixtures.ws42, kind: .workstation)])
        let state = try Self.run([sync])
        let again = try DeviceInventoryDecider.decide(sync, state)
        #expect(again.isEmpty)
        let report = DeviceInventoryDecider.change(sync, events: again, after: state)
        #expect(report.unchanged == [Fixtures.ws42] && report.enrolled.isEmpty && report.workstations == 1)
    }

    @Test func offboardingClosesThePeriodAndReEnrolmentOpensANewOne() throws {
        let state = try Self.run([
            Self.change(enrol: [.init(deviceID: Fixtures.ws42, kind: .workstation)], effectiveAt: Self.now.addingTimeInterval(-7_200)),
            Self.change(offboard: [.init(deviceID: Fixtures.ws42, reason: "replaced")], effectiveAt: Self.now.addingTimeInterval(-3_600)),
            Self.change(enrol: [.init(deviceID: Fixtures.ws42, kind: .server)]),
        ])
        let device = try #require(state.devices[Fixtures.ws42])
        #expect(device.kind == .server && device.isMonitored)
        #expect(device.periods == [
            MonitoringPeriod(from: Self.now.addingTimeInterval(-7_200), until: Self.now.addingTimeInterval(-3_600)),
            MonitoringPeriod(from: Self.now, until: nil),
        ])
    }

    @Test func refusals() throws {
        let enrolled = [Self.change(enrol: [.init(deviceID: Fixtures.ws42, kind: .workstation)])]
        #expect(try Self.refusal(Self.change()) == .inventoryChangeEmpty)
        #expect(try Self.refusal(Self.change(enrol: (0...UpdateDeviceInventory.maxDevices).map { .init(deviceID: DeviceID(rawValue: "d-\($0)")!, kind: .workstation) }))
            == .inventoryChangeTooLarge)
        #expect(try Self.refusal(Self.change(enrol: [.init(deviceID: Fixtures.ws43, kind: .workstation)], effectiveAt: Self.now.addingTimeInterval(3_600)))
            == .effectiveTimeInFuture)
        #expect(try Self.refusal(Self.change(enrol: [.init(deviceID: Fixtures.ws43, kind: .workstation)], effectiveAt: Self.now.addingTimeInterval(60))) == nil,
                "a connector's clock a minute ahead is skew, not a mistake")
        #expect(try Self.refusal(Self.change(enrol: [.init(deviceID: Fixtures.ws43, kind: .workstation)], offboard: [.init(deviceID: Fixtures.ws43)]))
            == .deviceListedTwice)
        #expect(try Self.refusal(Self.change(enrol: [.init(deviceID: Fixtures.ws42, kind: .server)]), after: enrolled) == .deviceKindConflict)
        #expect(try Self.refusal(Self.change(offboard: [.init(deviceID: Fixtures.ws43)]), after: enrolled) == .deviceNotEnrolled)
        #expect(try Self.refusal(Self.change(offboard: [.init(deviceID: Fixtures.ws42)], effectiveAt: Self.now.addingTimeInterval(-60)), after: enrolled)
            == .offboardBeforeEnrolment)
        let offboarded = enrolled + [Self.change(offboard: [.init(deviceID: Fixtures.ws42)])]
        #expect(try Self.refusal(Self.change(offboard: [.init(deviceID: Fixtures.ws42)]), after: offboarded) == .deviceNotEnrolled)
        #expect(try Self.refusal(Self.change(enrol: [.init(deviceID: Fixtures.ws42, kind: .workstation)], effectiveAt: Self.now.addingTimeInterval(-60)), after: offboarded)
            == .devicePeriodsOverlap)
        #expect(try Self.refusal(Self.change(enrol: [.init(deviceID: Fixtures.ws43, kind: .workstation, name: String(repeating: "x", count: 201))]))
            == .invalidField)
    }

    @Test func aRefusedChangeRecordsNothingForTheOtherDevicesEither() throws {
        // One offboarding of an unknown device refuses the whole change: no partial inventory.
        let c = Self.change(enrol: [.init(deviceID: Fixtures.ws42, kind: .workstation)], offboard: [.init(deviceID: Fixtures.ws43)])
        #expect(throws: DomainError.self) { try DeviceInventoryDecider.decide(c, DeviceInventory()) }
    }
}
