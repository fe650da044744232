import Foundation
import SondeCore

/// The secret values of every collection of a session, as they become known: a server may
/// echo to one collection what another sent it, so a secret of one is masked in all (a
/// collection that starts after another has finished masks what that one captured too).
final class SharedSecrets: @unchecked Sendable {
    private let lock = NSLock()
    private var known: [JSONValue]

    init(_ values: [JSONValue]) { known = values }

    func add(_ values: [JSONValue]) {
        lock.lock()
        defer { lock.unlock() }
        for value in values where !known.contains(value) { known.append(value) }
    }

    var values: [JSONValue] {
        lock.lock()
        defer { lock.unlock() }
        return known
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return known.count
    }

    /// The values added after the first `count` that are not among `own` (a collection's
    /// own secrets, which it masks already), and how many values there are now.
    func values(after count: Int, besides own: [JSONValue] = []) -> (new: [JSONValue], count: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (added(after: count, besides: own), known.count)
    }

    /// Adds a collection's own secrets and returns, in the same step, what others added
    /// after the first `count` (so that no value slips between the two).
    func add(own values: [JSONValue], after count: Int) -> (new: [JSONValue], count: Int) {
        lock.lock()
        defer { lock.unlock() }
        let new = added(after: count, besides: values)
        for value in values where !known.contains(value) { known.append(value) }
        return (new, known.count)
    }

    /// What was added after the first `count`, but `own`; the caller holds the lock.
    private func added(after count: Int, besides own: [JSONValue]) -> [JSONValue] {
        known.dropFirst(count).filter { !own.contains($0) }
    }
}

/// One slot a collection, written by its thread, read once all are done.
final class Slots<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    subscript(_ index: Int) -> Value? {
        get {
            lock.lock()
            defer { lock.unlock() }
            return slots[index]
        }
        set {
            lock.lock()
            defer { lock.unlock() }
            slots[index] = newValue
        }
    }

    var values: [Value?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}
