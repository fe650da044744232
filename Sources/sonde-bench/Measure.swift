import Foundation

/// Median time of one call, in microseconds, over `rounds` rounds of `iterations` calls.
func measure(iterations: Int, rounds: Int = 7, _ body: () throws -> Void) rethrows -> Double {
    var samples: [Double] = []
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { try body() }
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        samples.append(Double(elapsed) / 1000 / Double(iterations))
    }
    return samples.sorted()[samples.count / 2]
}

func format(_ microseconds: Double) -> String {
    if microseconds >= 10_000 { return String(format: "%10.1f ms", microseconds / 1000) }
    return String(format: "%10.2f µs", microseconds)
}

func report(_ name: String, _ microseconds: Double, _ note: String = "") {
    print(name.padding(toLength: 58, withPad: " ", startingAt: 0) + format(microseconds) + (note.isEmpty ? "" : "   " + note))
}

