import Foundation
import HTTPTypes
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// Signal batches: each signal is judged on its own.
@Suite struct IngestTests {
    @Test func batchWithOneBadSignalRejectsOnlyThatOne() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            var bad = Fixtures.signal(alert: "a-2")
            bad["severity"] = "apocalyptic"
            let noSource: [String: Any] = ["sourceAlertId": "a-4", "severity": "low", "observedAt": "2026-11-29T10:15:30Z"]
            let batch: [String: Any] = ["signals": [Fixtures.signal(alert: "a-1"), bad, Fixtures.signal(alert: "a-3", device: "ws-0043"), noSource]]

            let reply = try await api.post("/v1/tenants/acme-bv/signals", token: connector, batch)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.json["accepted"] as? Int == 2)
            #expect(reply.json["rejected"] as? Int == 2)
            #expect(reply.json["duplicates"] as? Int == 0)
            let items = reply.json["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["index"] as? Int } == [0, 1, 2, 3])
            #expect(items.map { $0["outcome"] as? String } == ["accepted", "rejected", "accepted", "rejected"])
            #expect(items[1]["code"] as? String == "invalid_signal")
            #expect((items[1]["reason"] as? String)?.contains("severity") == true)
            #expect(items[0]["signalId"] as? String != nil)
            #expect(items[1]["signalId"] == nil)
            // The tenant's onboarding and the two good signals.
            try await api.expectHead("acme-bv", 3)
        }
    }

    @Test func repeatedAlertIsADuplicateAndAChangedStatusAnUpdate() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            let uri = "/v1/tenants/acme-bv/signals"
            _ = try await api.post(uri, token: connector, ["signals": [Fixtures.signal(alert: "a-1")]])
            let duplicate = try await api.post(uri, token: connector, ["signals": [Fixtures.signal(alert: "a-1")]])
            #expect(duplicate.json["duplicates"] as? Int == 1, "\(duplicate.text)")
            let update = try await api.post(uri, token: connector, ["signals": [Fixtures.signal(alert: "a-1", status: "resolved")]])
            #expect(update.json["updated"] as? Int == 1, "\(update.text)")
            try await api.expectHead("acme-bv", 3)
        }
    }

    @Test func emptyBatchAndBatchOfNonObjectsAreRefused() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let connector = try await api.token(.connector, "acme-bv")
            expectProblem(
                try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": [Any]()]), .unprocessableContent, "batch_empty")
            expectProblem(try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["signals": ["oops"]]), .badRequest, "bad_request")
            expectProblem(try await api.post("/v1/tenants/acme-bv/signals", token: connector, ["events": [Any]()]), .badRequest, "bad_request")
            try await api.expectHead("acme-bv", 1)
        }
    }

    @Test func ingestIntoAnUnknownTenantIsNotFound() async throws {
        try await APIWorld.run { api in
            let soc = try await api.token(.soc)
            let reply = try await api.post("/v1/tenants/nobody-co/signals", token: soc, ["signals": [Fixtures.signal(alert: "a-1")]])
            expectProblem(reply, .notFound, "tenant_not_found")
            try await api.expectHead("nobody-co", 0)
        }
    }
}
