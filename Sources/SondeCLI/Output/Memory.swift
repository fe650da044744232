#if canImport(Glibc)
import Glibc
#endif

/// The process's heap, as glibc's malloc keeps it.
enum Memory {
    /// Gives the free pages of the heap back to the system (`malloc_trim(0)`, glibc): after
    /// a collection of 20,000 requests is loaded, the megabytes its reading let go would
    /// otherwise stay in the process's resident set for the whole run, since the run
    /// allocates on threads of its own (other malloc arenas). A no-op where there is none.
    static func returnFreePages() {
        #if canImport(Glibc)
        // Declared in <malloc.h>, which the Glibc module does not export: looked up instead.
        typealias Trim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
        #endif
    }
}
