using System.Globalization;
using System.Runtime.InteropServices;

namespace KcpKestrel.Tests.Shared;

/// <summary>
/// This process's open file descriptors (Linux /proc/self/fd) and its RLIMIT_NOFILE: leak checks count them
/// before and after a test, and the EMFILE cases lower the limit to just above what is open.
/// Meaningful only in a collection that runs alone, or another test's sockets are counted too.
/// </summary>
internal static partial class FileDescriptors
{
    private const int RlimitNofile = 7; // the same on x86-64 and arm64
    private const long NoGcBudget = 64 << 20;

    /// <summary>
    /// How many sockets, pipes and anonymous inodes (io_uring, eventfd, epoll) are open now: what a transport makes.
    /// Files are left out: the runtime keeps each assembly it loads open, and a test may load some.
    /// </summary>
    public static int Count() => Numbers().Count(n => !Target(n).StartsWith('/'));

    /// <summary>
    /// Waits (bounded) until at most <paramref name="count"/> are open: closes can lag the test's last await.
    /// A miss names what the extra descriptors point at (socket:[inode], anon_inode:[io_uring], ...).
    /// </summary>
    public static async Task WaitForAtMostAsync(int count)
    {
        var deadline = Environment.TickCount64 + (long)TestWaits.Bound.TotalMilliseconds;
        while (Count() > count)
        {
            if (Environment.TickCount64 > deadline)
            {
                var targets = Numbers().Select(n => $"{n}->{Target(n)}").Where(t => !t.Contains("->/", StringComparison.Ordinal));
                Assert.Fail($"{Count()} descriptors open, not at most {count}, after {TestWaits.Bound.TotalSeconds} s: {string.Join(", ", targets)}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Lowers the soft RLIMIT_NOFILE to <paramref name="headroom"/> descriptor numbers past the highest open one;
    /// disposing the result restores it. Bind what is to meet the limit inside: an io_uring accept takes the limit
    /// when it is armed, not when it runs. Then <see cref="Limit.Exhaust"/> uses up all but a few.
    /// </summary>
    public static Limit LowerLimit(int headroom)
    {
        Check(getrlimit(RlimitNofile, out var original));
        var limit = (ulong)(Numbers().Max() + 1 + headroom);
        Check(setrlimit(RlimitNofile, new RLimit { Current = Math.Min(limit, original.Current), Maximum = original.Maximum }));
        return new Limit(original);
    }

    /// <summary>Has the thread pool make its minimum of threads now: idle, they serve the window without new ones.</summary>
    private static void StartPoolThreads()
    {
        ThreadPool.GetMinThreads(out var count, out _);
        // Not disposed: an item that starts after the wait below still signals and waits on them.
        var started = new CountdownEvent(count);
        var release = new ManualResetEventSlim();
        for (var i = 0; i < count; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_ => { started.Signal(); release.Wait(); }, null);
        }

        // Threads past the minimum come slowly; the ones already parked by the test host count as started.
        _ = started.Wait(TimeSpan.FromSeconds(3));
        release.Set();
    }

    /// <summary>The open descriptors' numbers, sorted, without the one the listing itself held open.</summary>
    private static int[] Numbers()
    {
        var numbers = Directory.GetFiles("/proc/self/fd")
            .Where(path => !IsTheListing(path))
            .Select(path => int.Parse(Path.GetFileName(path), CultureInfo.InvariantCulture))
            .ToArray();
        Array.Sort(numbers);
        return numbers;
    }

    private static string Target(int fd)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{fd}").LinkTarget ?? "?";
        }
        catch (IOException)
        {
            return "closed";
        }
    }

    private static bool IsTheListing(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget is { } target && target.EndsWith("/fd", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            // Closed between the listing and this look: not open any more either way.
            return true;
        }
    }

    private static void Check(int result)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"getrlimit/setrlimit failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrlimit(int resource, out RLimit limit);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setrlimit(int resource, in RLimit limit);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [StructLayout(LayoutKind.Sequential)]
    internal struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    /// <summary>A lowered limit; disposing restores the old one.</summary>
    public sealed class Limit : IDisposable
    {
        private readonly RLimit _original;
        private bool _restored;

        internal Limit(RLimit original) => _original = original;

        /// <summary>
        /// Opens descriptors until exactly <paramref name="free"/> more can be opened under the limit; disposing the
        /// result closes them again. Keep what runs meanwhile short and warmed up: the runtime itself needs descriptors
        /// now and then and fails fast with "Out of memory" when it cannot (a new thread reads /proc and /sys, a GC reads
        /// /proc/self/status). So the thread pool's threads are made first, and no GC runs until they are closed.
        /// </summary>
        public IDisposable Exhaust(int free)
        {
            ObjectDisposedException.ThrowIf(_restored, this);
            StartPoolThreads();
            var anchor = File.OpenHandle("/dev/null");
            if (!GC.TryStartNoGCRegion(NoGcBudget))
            {
                throw new InvalidOperationException("could not suspend the GC while descriptors are scarce");
            }

            var fillers = new Stack<int>();
            int fd;
            while ((fd = dup((int)anchor.DangerousGetHandle())) >= 0)
            {
                fillers.Push(fd);
            }

            for (var i = 0; i < free && fillers.Count > 0; i++)
            {
                _ = close(fillers.Pop());
            }

            return new Fillers(anchor, fillers);
        }

        public void Dispose()
        {
            _restored = true;
            Check(setrlimit(RlimitNofile, _original));
        }
    }

    private sealed class Fillers(SafeHandle anchor, Stack<int> fds) : IDisposable
    {
        public void Dispose()
        {
            while (fds.TryPop(out var fd))
            {
                _ = close(fd);
            }

            anchor.Dispose();

            if (System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion)
            {
                GC.EndNoGCRegion();
            }
        }
    }
}
