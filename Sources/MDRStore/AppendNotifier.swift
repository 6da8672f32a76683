import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Tells other service instances that this one appended, and this one that others did: at most one NOTIFY
/// per `interval`, sent outside the append transaction (NOTIFY inside it would serialise all commits), and a
/// LISTEN connection that wakes local subscribers. Polling stays the fallback when a notification is lost.
public struct AppendNotifier: Service {
    public static let channel = "mdr_events"

    let store: EventStore
    let interval: Duration
    let instanceID: String

    public init(store: EventStore, interval: Duration = .milliseconds(50), instanceID: String = UUID().uuidString) {
        self.store = store
        self.interval = interval
        self.instanceID = instanceID
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.publish() }
                group.addTask { await self.listen() }
            }
        }
    }

    private var logger: Logger { store.database.logger }

    func publish() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            let appended = store.signal.takeUnannounced()
            guard !appended.isEmpty else { continue }
            do {
                try await store.database.client.query("SELECT pg_notify(\(Self.channel), \(instanceID))", logger: logger)
            } catch {
                logger.warning("could not send NOTIFY; other instances fall back to polling", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }

    func listen() async {
        while !Task.isCancelled {
            do {
                try await store.database.client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        // Notifications sent while we were not listening are lost: catch up by position now.
                        store.signal.remoteAppended()
                        for try await notification in notifications where notification.payload != instanceID {
                            store.signal.remoteAppended()
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("LISTEN failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
