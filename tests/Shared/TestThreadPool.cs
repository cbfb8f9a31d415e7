using System.Runtime.CompilerServices;

namespace KcpKestrel.Tests.Shared;

/// <summary>
/// Gives the test process enough thread-pool threads from the start. The VSTest host and xunit's runner
/// each park a pool thread in a blocking wait for the whole run; on a 2-core machine that is the pool's
/// whole minimum, and every continuation (Kestrel's, the pipes', the test's own) then waits for the pool's
/// slow thread injection: stalls of 0.5-1 s that look like transport defects. A server process has no
/// such parked threads, so this belongs to the tests, not to the library.
/// </summary>
internal static class TestThreadPool
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), Math.Max(completionPorts, 16));
    }
}
