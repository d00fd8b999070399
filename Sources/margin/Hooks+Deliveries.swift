import ArgumentParser
import Comments
import Foundation
import MarginServer
import Moderation

extension Hooks {
    /// `margin hooks test ID`: a sample event sent now, and the receiver's answer.
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a sample comment.held event to a hook now and print the answer (exit 1 when not delivered).")
        @Argument(help: "The hook's id (margin hooks list).")
        var id: Int64
        @Flag(help: "Print the delivery as JSON.")
        var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            let registry = try Hooks.registry(store: store, database: database)
            let started = ContinuousClock.now
            let delivery = try await reporting { try await registry.test(id: id) }
            let elapsed = ContinuousClock.now - started
            if json {
                printJSON(HookDeliveryView(delivery))
            } else {
                let milliseconds = elapsed.wholeMilliseconds
                let status = delivery.lastStatus.map { "HTTP \($0)" } ?? "no answer"
                if delivery.state == .delivered {
                    print("Delivered: \(status) in \(milliseconds) ms.")
                } else {
                    print("Not delivered: \(delivery.lastError ?? status) (\(status), \(milliseconds) ms).")
                }
                if let response = delivery.lastResponse, !response.isEmpty { print("Answer: \(excerpt(response, 300))") }
            }
            if delivery.state != .delivered { throw ExitCode.failure }
        }
    }

    /// `margin hooks deliveries ID [--limit N] [--json] [--retry DELIVERY_ID]`
    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A hook's deliveries, newest first, with their attempts and last answer; --retry queues a failed one again.")
        @Argument(help: "The hook's id (margin hooks list).")
        var id: Int64
        @Option(help: "How many (1 to 200; default 20).")
        var limit = 20
        @Flag(help: "Print JSON.")
        var json = false
        @Option(help: "Put this failed delivery (an ID of the list) back in the queue; the server sends it within seconds.")
        var retry: Int64?
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            guard (1...200).contains(limit) else { throw ValidationError("--limit must be from 1 to 200.") }
        }

        func run() async throws {
            let store = try await database.openAnyStore()
            let registry = try Hooks.registry(store: store, database: database)
            _ = try await reporting { try await registry.hook(id: id) }
            if let retry {
                // Only a delivery of this hook: another hook's id is a mistake in the command.
                guard try await store.hookDeliveries(hookID: id, limit: 10_000).contains(where: { $0.id == retry }) else {
                    printError("error: Hook \(id) has no delivery \(retry).")
                    throw ExitCode.failure
                }
                guard try await registry.retry(deliveryID: retry) else {
                    printError("error: Delivery \(retry) has not failed: it is pending or delivered already.")
                    throw ExitCode.failure
                }
            }
            let deliveries = try await registry.deliveries(hookID: id, limit: limit)
            if let retry, !json { print("Delivery \(retry) is queued again; a running server sends it within seconds.") }
            if json {
                printJSON(deliveries.map(HookDeliveryView.init))
            } else if deliveries.isEmpty {
                print("No deliveries for hook \(id) yet.")
            } else if retry == nil {
                printTable(["ID", "EVENT", "TYPE", "STATE", "ATTEMPTS", "CREATED", "NEXT / DONE", "STATUS", "LAST ERROR OR ANSWER"],
                           deliveries.map(row))
            }
        }

        /// One line of the table.
        func row(_ delivery: HookDelivery) -> [String] {
            let when = switch delivery.state {
            case .pending: "next " + formatTime(delivery.nextAttemptAt)
            case .delivered: formatTime(delivery.deliveredAt ?? delivery.nextAttemptAt)
            case .failed: formatTime(delivery.failedAt ?? delivery.nextAttemptAt)
            }
            let detail = delivery.lastError ?? delivery.lastResponse ?? ""
            return [String(delivery.id), delivery.eventID, delivery.type.rawValue, delivery.state.rawValue, String(delivery.attempts),
                    formatTime(delivery.createdAt), when, delivery.lastStatus.map(String.init) ?? "", excerpt(detail, 80)]
        }
    }

}
