import Foundation
import HTTPTypes
import MDRApplication
import MDRConnectors
import MDRDemo
import MDRDomain
import MDRServer
import MDRStore
import MDRTestSupport
import Testing

/// `GET /v1/tenants/{t}/connectors` and the connector's `/metrics`: what the SOC and Dynamic look at when a tenant's
/// Microsoft 365 alerts seem to be missing. The pulls run against the Graph simulator on loopback.
@Suite struct ConnectorEndpointTests {
    @Test func theSOCSeesHowATenantsGraphPullGoesAndNeverItsSecret() async throws {
        try await APIWorld.run { api in
            try await api.onboard("acme-bv")
            let soc = try await api.token(.soc)
            let path = "/v1/tenants/acme-bv/connectors"
            let none = try await api.get(path, token: soc)
            #expect(none.status == .ok, "\(none.text)")
            #expect((none.json["connectors"] as? [Any])?.isEmpty == true)

            let graph = GraphSimulator()
            try await graph.run { port in
                let store = GraphConnectionStore(database: api.services.database)
                let tenant = TenantID(rawValue: "acme-bv")!
                try await store.set(tenant: tenant, credentials: graph.credentials(port: port))
                let poller = GraphAlertPoller(store: store, commands: api.services.commands, time: SystemTime(), logger: TestDatabase.logger)
                graph.put([GraphSimulator.Alert(id: "da-1", createdDateTime: Date().addingTimeInterval(-120))])
                #expect(try await poller.runOnce() == 1)
                var listed = try await api.get(path, token: soc)
                var connector = try #require((listed.json["connectors"] as? [[String: Any]])?.first, "\(listed.text)")
                #expect(connector["kind"] as? String == "graphAlerts" && connector["state"] as? String == "ok")
                #expect(connector["clientId"] as? String == graph.clientID && connector["alertsIngested"] as? Int == 1)
                #expect(connector["lastSuccessAt"] as? String != nil && connector["checkpoint"] as? String != nil)
                #expect(!listed.text.contains(graph.clientSecret))
                // The alert went the push path's way: a signal, and the correlator's incident from it.
                let signals = try await api.get("/v1/tenants/acme-bv/events?limit=100", token: soc)
                #expect(signals.text.contains("SignalIngested") && signals.text.contains("system:graph-connector"), "\(signals.text)")

                // A refused secret shows as failing, in the API and in /metrics.
                try await store.set(tenant: tenant, credentials: graph.credentials(port: port, clientSecret: "rotated-away"))
                #expect(try await poller.runOnce() == 1)
                listed = try await api.get(path, token: soc)
                connector = try #require((listed.json["connectors"] as? [[String: Any]])?.first)
                #expect(connector["state"] as? String == "failing" && connector["failures"] as? Int == 1)
                #expect((connector["lastError"] as? String)?.hasPrefix("unauthorized:") == true)
                #expect(!listed.text.contains("rotated-away"))
                let metrics = try await api.get("/metrics", token: soc)
                #expect(metrics.text.contains(#"mdr_graph_connectors{state="failing"} 1"#), "\(metrics.text)")
                #expect(metrics.text.contains(#"mdr_graph_connectors{state="ok"} 0"#))
                #expect(metrics.text.contains("mdr_graph_connector_alerts_total 1\n"))
                #expect(!metrics.text.contains("acme-bv"), "no tenant ids in the metrics")
            }
            // Customers and connectors do not read it (the role table checks the rest).
            let customer = try await api.token(.customer, "acme-bv")
            #expect(try await api.get(path, token: customer).status == .forbidden)
            #expect(try await api.get("/v1/tenants/nope-bv/connectors", token: soc).status == .notFound)
        }
    }
}
