import Foundation
import MDRDomain
import MDRNotify
import MDRResponse
import MDRStore
import NIOHTTP1

/// One run of the demo's scenario against a running service: every step through the public API, as the people and
/// systems of the service description would take it, with what the service answered or did in the background.
struct DemoRun: Sendable {
    let api: DemoAPIClient
    /// For the operator's CLI steps only (tokens, the EDR app, the customer's webhook secret).
    let database: Database
    let receiver: WebhookReceiver
    let receiverPort: Int
    let defender: DefenderSimulator
    let defenderPort: Int
    let options: Demo.Options
    let output: @Sendable (String) -> Void

    /// The tokens of the roles the scenario plays.
    struct Tokens {
        var dynamic: String
        var soc: String
        var connector: String
    }

    func run() async throws -> DemoSummary {
        let clock = ContinuousClock()
        let started = clock.now
        let now = Date()
        let tenant = "demo-\(Int(now.timeIntervalSince1970))"
        guard let tenantID = TenantID(rawValue: tenant) else { throw DemoError("'\(tenant)' is not a tenant id") }
        let scenario = AttackScenario(tenant: tenant, now: now)
        let base = "/v1/tenants/\(tenant)"

        // 1. The operator's part: tokens for each role, the customer's webhook secret, the tenant's Defender app.
        let expiry = now.addingTimeInterval(86_400)
        let tokenStore = TokenStore(database: database)
        let dynamicToken = try await tokenStore.create(name: "demo dynamic \(tenant)", role: .dynamic, tenant: nil, expiresAt: expiry).1
        let socToken = try await tokenStore.create(name: "demo soc \(tenant)", role: .soc, tenant: nil, expiresAt: expiry).1
        let connectorToken = try await tokenStore.create(name: "demo connector \(tenant)", role: .connector, tenant: tenantID, expiresAt: expiry).1
        let tokens = Tokens(dynamic: dynamicToken, soc: socToken, connector: connectorToken)
        let customerURL = "http://127.0.0.1:\(receiverPort)/customer/\(tenant)"
        let customerSecret = Demo.randomSecret()
        receiver.expect(path: "/customer/\(tenant)", secrets: [customerSecret])
        try await WebhookEndpointStore(database: database).set(url: customerURL, secrets: [customerSecret.encoded])
        try await EDRConnectionStore(database: database).set(tenant: tenantID, credentials: defender.credentials(port: defenderPort))
        defender.addMachine(id: AttackScenario.victimMachineID, dnsName: AttackScenario.victimDevice)
        section("Operator")
        say("tokens for dynamic, soc and a connector of \(tenant) (named \"demo …\", valid for a day)")
        say("the customer's after-hours webhook secret registered; the tenant's Defender for Endpoint app (simulated) registered")

        // 2. Dynamic onboards the customer on Werkplek Veilig and takes it through the onboarding steps.
        section("Onboarding (Dynamic)")
        let today = Narration.amsterdamDate(now)
        try await api.post(
            "/v1/tenants", token: tokens.dynamic,
            json: [
                "tenantId": tenant, "name": "Demo Zorg B.V.", "package": "veilig", "contractStart": today, "pricePerWorkstationCents": 850,
                "primaryContact": ["name": "Anna Jansen", "email": "it@\(tenant).example", "phone": "+31 20 555 0142"],
                "afterHoursRoute": ["channel": "webhook", "address": customerURL, "note": "on-call IT, 24/7"],
                "consent": ["grantedBy": "Anna Jansen", "grantedOn": today], "nis2InScope": true,
            ])
        say("onboarded \(tenant) \"Demo Zorg B.V.\": Werkplek Veilig (SLA B, MDR add-on) at €8.50 per workstation a month, NIS2 in scope")
        say("primary contact e-mail it@\(tenant).example; after hours: webhook; consent to isolate on file")
        for source in ["endpoint", "microsoft365", "firewall", "antivirus"] {
            try await api.post("\(base)/health-checks", token: tokens.dynamic, json: ["source": source, "status": "delivering"])
        }
        say("health checks: endpoint, microsoft365, firewall and antivirus deliver")
        try await api.post("\(base)/roll-out", token: tokens.dynamic)
        try await api.post("\(base)/hand-over", token: tokens.dynamic, json: ["tuningDays": 30])
        try await api.post("\(base)/monitoring/activate", token: tokens.dynamic)
        say("rolled out, handed over (30 tuning days), monitoring active since \(Narration.time(Date()))")

        // 3. The connector enrols the devices it monitors (what billing counts).
        section("Device inventory (connector)")
        let enrolment = try await api.post(
            "\(base)/device-inventory", token: tokens.connector,
            json: ["enrol": AttackScenario.inventory.map { ["deviceId": $0.id, "kind": $0.kind] }], as: InventoryChange.self)
        say("enrolled \(enrolment.enrolled.count) devices: \(enrolment.workstations) workstations (ws-0030 … ws-0053), \(enrolment.servers) servers")

        // 4. The SOC tunes: the weekly vulnerability scan is expected noise.
        section("Tuning (SOC)")
        try await api.post(
            "\(base)/suppression-rules", token: tokens.soc,
            json: ["match": ["ip": AttackScenario.scannerAddress], "reason": "weekly vulnerability scan (Nessus), agreed with the customer"])
        say("suppression rule: signals naming \(AttackScenario.scannerAddress) (the vulnerability scanner) are stored and counted, never escalated")

        // 5. The attack, and the noise around it, as the sources deliver them.
        section("The attack, as the sources deliver it (connector)")
        var ingest = IngestTally()
        var informationalIDs: [String] = []
        try await ingestGraph(
            base, tokens, AttackScenario.graphBatch(scenario.phishing), tally: &ingest,
            "Defender for Office 365: phishing mail delivered to \(scenario.victimUser)")
        try await ingestGraph(base, tokens, AttackScenario.graphBatch(scenario.riskySignIn), tally: &ingest,
            "Entra ID Protection: risky sign-in of \(scenario.victimUser) from 203.0.113.66")
        let info = try await ingestGraph(base, tokens, AttackScenario.graphBatch(scenario.informational), tally: &ingest,
            "Defender for Endpoint: informational alert on ws-0031 (noise)")
        informationalIDs += info.items.compactMap(\.signalId)
        try await ingestGraph(base, tokens, AttackScenario.graphBatch(scenario.ransomware), tally: &ingest,
            "Defender for Endpoint: ransomware behaviour on \(AttackScenario.victimDevice) (\(AttackScenario.victimAddress))")
        try await ingestCEF(base, tokens, scenario.scannerSweep, tally: &ingest,
            "Check Point: port scan from \(AttackScenario.scannerAddress) (the scanner: noise)")
        try await ingestCEF(base, tokens, scenario.c2Connection, tally: &ingest,
            "Check Point: \(AttackScenario.victimAddress) connects to C2 server \(AttackScenario.c2Address)")
        try await ingestGraph(base, tokens, AttackScenario.graphBatch(scenario.phishing), tally: &ingest,
            "Defender for Office 365: the phishing alert again (a connector's resend)")
        say("together: \(ingest.accepted) accepted, \(ingest.duplicates) duplicate, \(ingest.suppressed) suppressed, \(ingest.rejected) rejected")

        // 6. The correlator turns the four attack signals into one incident.
        section("Correlation")
        let attackSignals = 4
        let listed = try await waitFor("the correlator to join the \(attackSignals) attack signals into an incident") {
            let list = try await api.get("\(base)/incidents", token: tokens.soc, as: Wire.IncidentList.self)
            return list.incidents.contains { $0.signalCount >= attackSignals } ? list : nil
        }
        guard let candidate = listed.incidents.max(by: { $0.signalCount < $1.signalCount }) else { throw DemoError("no incident") }
        let incidentPath = "\(base)/incidents/\(candidate.incidentId)"
        let opened = try await api.get(incidentPath, token: tokens.soc, as: Wire.Incident.self)
        let raises = try await priorityRaises(base, tokens)
        say("incident \(opened.incidentId) opened at \(Narration.time(opened.openedAt))")
        say("\(opened.signals.count) signals from \(opened.sources.joined(separator: ", ")); "
            + "device \(opened.devices.joined(separator: ", ")), user \(opened.users.joined(separator: ", ")), addresses \(opened.ips.joined(separator: ", "))")
        say("proposed priority \(opened.candidatePriority) (highest severity \(opened.highestSeverity))"
            + (raises.isEmpty ? "" : ", raised because: " + raises.joined(separator: "; ")))
        let escalatedInformational = informationalIDs.filter { opened.signals.contains($0) }
        if listed.incidents.count > 1 { say("note: \(listed.incidents.count) incidents; the demo follows the largest") }

        // 7. The SOC confirms, isolates the workstation, and waits for Defender.
        section("Response (SOC)")
        let confirmed = try await api.post(
            "\(incidentPath)/confirm", token: tokens.soc,
            json: [
                "priority": "P1",
                "summary": "Phishing → account takeover → ransomware on \(AttackScenario.victimDevice), C2 traffic seen by the firewall",
            ],
            as: Wire.Incident.self)
        say("confirmed as \(confirmed.priority ?? "?") at \(Narration.time(confirmed.confirmedAt ?? "")): "
            + "\"Phishing → account takeover → ransomware …\"")
        let devicePath = "\(base)/devices/\(AttackScenario.victimDevice)"
        try await api.post(
            "\(devicePath)/isolate", token: tokens.soc,
            json: ["incidentId": opened.incidentId, "isolationType": "Full", "comment": "contain ransomware \(opened.incidentId)"])
        say("isolation of \(AttackScenario.victimDevice) requested (Full); the responder asks Defender …")
        let isolated = try await waitForDevice(devicePath, tokens, state: "isolated")
        say("\(AttackScenario.victimDevice) isolated at \(Narration.time(isolated.history.last?.at ?? "")) (Defender action succeeded)")
        try await waitForNotifications(base, tokens, delivered: ["incident.confirmed", "isolation.succeeded"])

        // 8. Clean-up: release the device, resolve the incident.
        section("Recovery (SOC)")
        try await api.post(
            "\(devicePath)/release", token: tokens.soc, json: ["reason": "ransomware removed, device re-imaged, credentials reset"])
        let released = try await waitForDevice(devicePath, tokens, state: "released")
        say("\(AttackScenario.victimDevice) released at \(Narration.time(released.history.last?.at ?? "")) after clean-up")
        let resolved = try await api.post(
            "\(incidentPath)/resolve", token: tokens.soc,
            json: ["resolution": "device re-imaged, password of \(scenario.victimUser) reset, sessions revoked, C2 address blocked"],
            as: Wire.Incident.self)
        say("incident resolved at \(Narration.time(resolved.closedAt ?? ""))")
        for change in released.history {
            say("  \(Narration.time(change.at))  \(Narration.column(change.state, 16)) by \(change.actorName)"
                + (change.note.map { " — \($0)" } ?? ""))
        }

        // 9. Who was told what, over which route.
        section("Notifications")
        let (notifications, unverified) = try await narrateNotifications(base, tokens)

        // 10. The SLA timers of the incident.
        section("SLA (Werkplek Veilig: SLA B)")
        let timers = try await narrateSlaTimers(incidentPath, tokens)

        // 11. Signal statistics from the view, with what the ingest answers said.
        section("Signals")
        let expectedStored = ingest.accepted + ingest.suppressed
        let statistics = try await waitFor("the signal statistics to count the \(expectedStored) stored signals") {
            let s = try await api.get("\(base)/signal-statistics", token: tokens.soc, as: Wire.SignalStatistics.self)
            return s.rows.reduce(0) { $0 + $1.signals } >= expectedStored ? s : nil
        }
        for source in Set(statistics.rows.map(\.source)).sorted() {
            let rows = statistics.rows.filter { $0.source == source }
            let figures = Dictionary(grouping: rows, by: \.outcome).mapValues { $0.reduce(0) { $0 + $1.signals } }
            say(Narration.column(source, 13) + " " + figures.sorted(by: { $0.key < $1.key }).map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        }
        let informational = informationalIDs.count - escalatedInformational.count
        say("noise: \(ingest.duplicates) duplicate (not stored again), \(ingest.suppressed) suppressed (scanner), \(informational) informational "
            + "(stored, opened nothing); \(opened.signals.count) signals became incident \(opened.incidentId.prefix(8))…")

        // 12. The billing line of the month.
        section("Billing")
        let month = Narration.amsterdamMonth(Date())
        let line = try await api.get("\(base)/billing/\(month)", token: tokens.dynamic, as: Wire.BillingLine.self)
        say("\(month): \(line.status), \(line.workstations.count) workstations × \(Narration.euros(line.unitPriceCents ?? 0)) = "
            + "\(Narration.euros(line.amountCents ?? 0)) (\(line.charge)); \(line.servers.count) servers listed apart")

        // 13. The monthly report.
        section("Report")
        let reportPath = try await writeReport(base, tokens, tenant: tenant, month: month)

        let summary = DemoSummary(
            tenant: tenant, incidentID: opened.incidentId, incidentSignals: opened.signals.count, incidentSources: opened.sources,
            incidents: listed.incidents.count, candidatePriority: opened.candidatePriority, priority: confirmed.priority,
            priorityReasons: raises, incidentStatus: resolved.status, isolationStates: released.history.map(\.state),
            accepted: ingest.accepted, duplicates: ingest.duplicates, suppressed: ingest.suppressed, informational: informational,
            notifications: notifications, unverifiedWebhooks: unverified, slaTimers: timers, billingMonth: month, billingStatus: line.status,
            billedWorkstations: line.workstations.count, servers: line.servers.count, unitPriceCents: line.unitPriceCents, amountCents: line.amountCents,
            reportPath: reportPath, duration: clock.now - started)
        section("Done")
        say("the whole scenario took \(Narration.seconds(summary.duration.inSeconds)); tenant \(tenant) stays in the database")
        say("serve this database (`mdr serve`, or `./ops/run` for its local cluster) and look around: "
            + "GET /v1/tenants/\(tenant)/events has every event, hash-chained; `mdr audit verify --tenant \(tenant)` checks the chain")
        return summary
    }

    // MARK: Steps

    struct InventoryChange: Decodable {
        var enrolled: [String]
        var workstations: Int
        var servers: Int
    }

    struct IngestTally {
        var accepted = 0
        var duplicates = 0
        var suppressed = 0
        var rejected = 0

        mutating func add(_ report: Wire.IngestReport) {
            accepted += report.accepted
            duplicates += report.duplicates
            suppressed += report.suppressed
            rejected += report.rejected
        }
    }

    @discardableResult
    private func ingestGraph(
        _ base: String, _ tokens: Tokens, _ body: Data, tally: inout IngestTally, _ what: String
    ) async throws -> Wire.IngestReport {
        let report = try DemoAPIClient.decode(
            Wire.IngestReport.self, from: try await api.send(.POST, "\(base)/signals/graph", token: tokens.connector, body: body),
            path: "\(base)/signals/graph")
        return try record(report, tally: &tally, "graph", what)
    }

    @discardableResult
    private func ingestCEF(_ base: String, _ tokens: Tokens, _ line: String, tally: inout IngestTally, _ what: String) async throws -> Wire.IngestReport {
        let report = try DemoAPIClient.decode(
            Wire.IngestReport.self,
            from: try await api.send(.POST, "\(base)/signals/cef", token: tokens.connector, body: Data((line + "\n").utf8), contentType: "text/plain"),
            path: "\(base)/signals/cef")
        return try record(report, tally: &tally, "cef", what)
    }

    private func record(_ report: Wire.IngestReport, tally: inout IngestTally, _ format: String, _ what: String) throws -> Wire.IngestReport {
        tally.add(report)
        let outcomes = report.items.map(\.outcome).joined(separator: ", ")
        say("\(Narration.time(Date()))  POST …/signals/\(format)  \(what): \(outcomes)")
        if let rejected = report.items.first(where: { $0.outcome == "rejected" }) {
            throw DemoError("the service rejected a demo signal: \(rejected.reason ?? "no reason given")")
        }
        return report
    }

    /// Prints every notification of the tenant once all have settled, with whether the receiver verified it.
    private func narrateNotifications(_ base: String, _ tokens: Tokens) async throws -> ([DemoSummary.Notification], unverified: Int) {
        let list = try await waitForNotifications(base, tokens, delivered: ["isolation.released"])
        let deliveries = receiver.deliveries
        var notifications: [DemoSummary.Notification] = []
        for n in list.notifications.sorted(by: { ($0.occurredAt, $0.type) < ($1.occurredAt, $1.type) }) {
            let verified = deliveries.contains { $0.webhookID == n.notificationId && $0.verified }
            notifications.append(
                DemoSummary.Notification(
                    type: n.type, recipient: n.recipient, channel: n.channel, status: n.status, attempts: n.attempts,
                    signatureVerified: verified, lastError: n.lastError))
            let route = n.channel == "webhook" ? "webhook" : "e-mail \(n.address)"
            var line = "\(Narration.time(n.occurredAt))  \(Narration.column(n.type, 28)) → \(Narration.column(n.recipient, 21)) "
                + "\(route): \(n.status), \(n.attempts) attempt\(n.attempts == 1 ? "" : "s")"
            if verified { line += ", signature verified by the receiver" }
            if n.status == "failed", let error = n.lastError { line += " (\(error))" }
            say(line)
        }
        if notifications.contains(where: { $0.channel == "email" && $0.status == "failed" }) {
            say("no e-mail server is configured (MDR_SMTP_*): e-mail to the customer fails and falls back to Dynamic (notification.failed)")
        }
        let unverified = deliveries.filter { !$0.verified }.count
        say("the receiver got \(deliveries.count) calls, \(deliveries.count - unverified) with a valid Standard Webhooks signature")
        return (notifications, unverified)
    }

    /// Prints the incident's SLA timers once all have stopped, elapsed against their targets.
    private func narrateSlaTimers(_ incidentPath: String, _ tokens: Tokens) async throws -> [DemoSummary.SlaTimer] {
        let sla = try await waitFor("the SLA timers of the incident to stop") {
            let sla = try await api.get("\(incidentPath)/sla", token: tokens.dynamic, as: Wire.IncidentSla.self)
            return sla.timers.count >= 3 && sla.timers.allSatisfy({ $0.status != "running" }) ? sla : nil
        }
        var timers: [DemoSummary.SlaTimer] = []
        for timer in sla.timers {
            let target = (Narration.date(timer.deadline)?.timeIntervalSince1970 ?? 0) - (Narration.date(timer.startedAt)?.timeIntervalSince1970 ?? 0)
            timers.append(DemoSummary.SlaTimer(target: timer.target, status: timer.status, elapsedSeconds: timer.elapsedSeconds, targetSeconds: target))
            say("\(Narration.column(timer.target, 8)) \(timer.status): \(Narration.seconds(timer.elapsedSeconds ?? 0)) of \(Narration.minutes(target)) "
                + "(\(timer.priority), stopped by \(timer.stoppedBy ?? "—"))")
        }
        if let nis2 = sla.nis2 {
            say("NIS2: the customer's early warning is due by \(Narration.dateTime(nis2.earlyWarning)), "
                + "the incident notification by \(Narration.dateTime(nis2.incidentNotification))")
        }
        return timers
    }

    /// The reasons of every `IncidentPriorityRaised` in the tenant's log, from the event log.
    private func priorityRaises(_ base: String, _ tokens: Tokens) async throws -> [String] {
        var after: Int64 = 0
        var reasons: [String] = []
        while true {
            let page = try await api.get("\(base)/events?after=\(after)&limit=1000", token: tokens.soc, as: Wire.EventPage.self)
            for event in page.events where event.type == "IncidentPriorityRaised" {
                let raise = event.data
                reasons.append("\(raise?.from ?? "?") → \(raise?.to ?? "?"): " + (raise?.reasons ?? []).joined(separator: ", "))
            }
            if page.nextAfter >= page.head || page.events.isEmpty { return reasons }
            after = page.nextAfter
        }
    }

    private func waitForDevice(_ path: String, _ tokens: Tokens, state: String) async throws -> Wire.DeviceHistory {
        try await waitFor("\(AttackScenario.victimDevice) to be \(state)") {
            let history = try await api.get("\(path)/history", token: tokens.soc, as: Wire.DeviceHistory.self)
            if history.device.state == "failed" {
                throw DemoError("isolating \(AttackScenario.victimDevice) failed: \(history.history.last?.note ?? "no reason given")")
            }
            return history.device.state == state ? history : nil
        }
    }

    /// Waits until nothing is pending (twice in a row, as the notifier plans new entries from the log just after),
    /// each customer delivery that failed has its fallback to Dynamic, and a notification of each of the `delivered`
    /// types went out to Dynamic.
    @discardableResult
    private func waitForNotifications(
        _ base: String, _ tokens: Tokens, delivered types: [String]
    ) async throws -> Wire.NotificationList {
        var settledOnce = false
        // The tenant's whole list: isolation notifications are about the device, and not filtered by incident.
        let path = "\(base)/notifications"
        do {
            return try await waitFor("the notifications (\(types.joined(separator: ", "))) to be delivered to Dynamic") {
                let list = try await api.get(path, token: tokens.dynamic, as: Wire.NotificationList.self)
                let all = list.notifications
                // A delivery to the customer that failed for good is followed by a `notification.failed` to Dynamic.
                let failedToCustomer = all.filter { $0.recipient != "dynamic" && $0.status == "failed" }.count
                let fallbacks = all.filter { $0.type == "notification.failed" && $0.status != "pending" }.count
                let done = !all.contains { $0.status == "pending" } && fallbacks >= failedToCustomer
                    && types.allSatisfy { type in all.contains { $0.type == type && $0.recipient == "dynamic" && $0.status == "delivered" } }
                defer { settledOnce = done }
                return done && settledOnce ? list : nil
            }
        } catch var error as DemoError {
            // Say where each stands: that is where to look.
            let list = try await api.get(path, token: tokens.dynamic, as: Wire.NotificationList.self)
            error.description += "; notifications: "
                + list.notifications.map { "\($0.type) → \($0.recipient) \($0.channel) \($0.status) (\($0.lastError ?? "no error"))" }
                .joined(separator: "; ")
            throw error
        }
    }

    /// The tenant's report of the month as HTML, written to the output directory; nil (and the way to get it later)
    /// when this service has no report operation.
    private func writeReport(_ base: String, _ tokens: Tokens, tenant: String, month: String) async throws -> String? {
        let path = "\(base)/reports/\(month)?format=html"
        let html: Data
        do {
            html = try await api.send(.GET, path, token: tokens.dynamic, accept: "text/html")
        } catch let error as DemoError where error.description.contains(" 404 not_found") {
            say("this build has no report operation yet; once it has: GET \(base)/reports/\(month)?format=html")
            return nil
        }
        let directory = URL(fileURLWithPath: options.outputDirectory, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("report-\(tenant)-\(month).html")
        try html.write(to: file)
        say("the monthly report (HTML, \(html.count / 1024) KiB): \(file.path)")
        return file.path
    }

    // MARK: Waiting and narrating

    /// Polls `attempt` every 100 ms until it returns a value, for at most the options' wait limit.
    private func waitFor<T: Sendable>(_ what: String, _ attempt: () async throws -> T?) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + options.waitLimit
        while true {
            if let value = try await attempt() { return value }
            guard clock.now < deadline else {
                throw DemoError("waited \(options.waitLimit) for \(what), in vain: see the service's log (--log-level info)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private func section(_ title: String) {
        output("")
        output("== \(title)")
    }

    private func say(_ line: String) {
        output("   " + line)
    }
}
