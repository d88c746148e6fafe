import ChirpPostgres
import ChirpStore
import Foundation
import Synchronization
import Testing

/// Migrators started together on a new database migrate it once, all of them successfully (two
/// loaders that migrated at start used to fail on the race for CREATE TABLE IF NOT EXISTS).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct MigrationTests {
    @Test func migratorsAtOnceAllSucceed() throws {
        let stack = try LocalStack(migrated: false)
        defer { stack.stop() }
        let url = stack.ownerURL
        let failures = Mutex<[String]>([])
        let applied = Mutex<[Int]>([])
        let group = DispatchGroup()
        for _ in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let store = try AnalyticsStore(url: url)
                    let versions = try store.migrate()
                    applied.withLock { $0 += versions }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        group.wait()
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        #expect(applied.withLock { $0 }.sorted() == Migrations.all.map(\.version).sorted(), "each migration ran once")
        #expect(try AnalyticsStore(url: url).schemaVersion() == Migrations.all.map(\.version).max())
    }
}
