import Foundation
import SondeFuzzTargets

// Built two ways (see the Makefile's `fuzz`):
// - with `-sanitize=fuzzer,address -DFUZZING`: `main` hands libFuzzer's driver
//   (`LLVMFuzzerRunDriver`) the target named by $SONDE_FUZZ_TARGET, and libFuzzer's own
//   flags (`-max_total_time`, `-dict`, corpus folders);
// - without: `sonde-fuzz TARGET FILE...` runs each file once (replaying a crash), and
//   `sonde-fuzz seeds FOLDER` writes the seed corpora and dictionaries from the
//   repository's fixtures (run from the repository's top).

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

nonisolated(unsafe) var target: FuzzTarget = .json

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#endif

@main
struct FuzzMain {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "seeds", arguments.count == 2 {
            do {
                try FuzzSeeds.write(to: URL(fileURLWithPath: arguments[1]), repository: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            } catch {
                print("cannot write the seeds: \(error)")
                exit(1)
            }
            return
        }
        #if FUZZING
        let name = ProcessInfo.processInfo.environment["SONDE_FUZZ_TARGET"] ?? ""
        guard let chosen = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("SONDE_FUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        target = chosen
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in testOneInput(data, size) })
        #else
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: sonde-fuzz TARGET FILE...  (TARGET: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))\n       sonde-fuzz seeds FOLDER")
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("cannot read \(path)")
                exit(2)
            }
            data.withUnsafeBytes { target.run($0) }
            print("ok \(path)")
        }
        #endif
    }
}
