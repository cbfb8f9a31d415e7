using System.Diagnostics;
using System.Runtime.InteropServices;

namespace KcpKestrel.Tests.Shared.UserTcp;

/// <summary>
/// A Linux network namespace of one test (<c>ip netns add kkut-PID-N</c>) with its loopback up, deleted on dispose.
/// Tests talk to the user-space TCP stack only through addresses inside such namespaces: a TUN device created in
/// one (the stack's CLI run under <c>ip netns exec</c>), or a veth pair between two. Kernel sockets belong to the
/// namespace of the thread that creates them, so <see cref="RunInside{T}"/> runs a delegate on a dedicated thread
/// moved in with setns(2); sockets made there stay in the namespace whichever thread uses them later.
/// </summary>
internal sealed class NetNamespace : IAsyncDisposable
{
    private const int CloneNewNet = 0x40000000;
    private static int s_next;

    private NetNamespace(string name) => Name = name;

    /// <summary>The name under <c>/var/run/netns</c>.</summary>
    public string Name { get; }

    /// <summary>Why this machine cannot make namespaces (not Linux, not root, no <c>ip</c>, no TUN), or null.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces are Linux only";
        }

        if (geteuid() != 0)
        {
            return "creating a network namespace and a TUN device needs root";
        }

        if (IpPath() is null)
        {
            return "the ip command (iproute2) is not installed: apt-get install iproute2 (.ci/run does it)";
        }

        if (!File.Exists("/dev/net/tun"))
        {
            return "/dev/net/tun is missing (no TUN support in this kernel or container)";
        }

        return null;
    }

    /// <summary>A new namespace <c>kkut-PID-N</c> with its loopback up.</summary>
    public static async Task<NetNamespace> CreateAsync()
    {
        var ns = new NetNamespace($"kkut-{Environment.ProcessId}-{Interlocked.Increment(ref s_next)}");
        await IpAsync("netns", "add", ns.Name).ConfigureAwait(false);
        try
        {
            await ns.IpInsideAsync("link", "set", "lo", "up").ConfigureAwait(false);
            return ns;
        }
        catch
        {
            await ns.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Joins <paramref name="a"/> and <paramref name="b"/> with a veth pair, addressed <c>10.78.S.1/24</c> on a's end
    /// and <c>10.78.S.2/24</c> on b's (S from <paramref name="subnet"/>), both up; returns the two addresses and the
    /// two interface names.
    /// </summary>
    public static async Task<(string AddressA, string AddressB, string DeviceA, string DeviceB)> LinkAsync(NetNamespace a, NetNamespace b, int subnet = 1)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);

        // Interface names hold at most 15 characters; they live inside the namespaces, so short fixed names are unique.
        const string DeviceA = "kkveth0";
        const string DeviceB = "kkveth1";
        await IpAsync("link", "add", DeviceA, "netns", a.Name, "type", "veth", "peer", "name", DeviceB, "netns", b.Name).ConfigureAwait(false);
        var (addressA, addressB) = ($"10.78.{subnet}.1", $"10.78.{subnet}.2");
        await a.IpInsideAsync("addr", "add", addressA + "/24", "dev", DeviceA).ConfigureAwait(false);
        await b.IpInsideAsync("addr", "add", addressB + "/24", "dev", DeviceB).ConfigureAwait(false);
        await a.IpInsideAsync("link", "set", DeviceA, "up").ConfigureAwait(false);
        await b.IpInsideAsync("link", "set", DeviceB, "up").ConfigureAwait(false);
        return (addressA, addressB, DeviceA, DeviceB);
    }

    /// <summary>Runs <c>ip -n Name args</c>; throws with ip's stderr when it fails.</summary>
    public Task IpInsideAsync(params string[] args) => IpAsync(["-n", Name, .. args]);

    /// <summary>
    /// Runs <c>ip netns exec Name args</c> to its end (killed past <paramref name="timeout"/>, default 60 s) and
    /// returns its exit code and output.
    /// </summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> ExecAsync(TimeSpan? timeout, params string[] args) =>
        TestProcess.RunAsync(ExecStartInfo(args), timeout ?? TimeSpan.FromSeconds(60));

    /// <summary>As <see cref="ExecAsync(TimeSpan?, string[])"/> with the default bound.</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> ExecAsync(params string[] args) => ExecAsync(null, args);

    /// <summary>Starts <c>ip netns exec Name args</c> with its standard streams redirected; the caller owns the process.</summary>
    public Process Start(params string[] args) => Process.Start(ExecStartInfo(args))!;

    /// <summary>The start of <c>ip netns exec Name args</c>, every stream redirected.</summary>
    public ProcessStartInfo ExecStartInfo(IEnumerable<string> args) =>
        TestProcess.StartInfo(IpPath() ?? "ip", ["netns", "exec", Name, .. args]);

    /// <summary>
    /// Runs <paramref name="action"/> on a new thread moved into this namespace (setns with CLONE_NEWNET) and
    /// returns its result; sockets, TUN devices and threads it creates belong to the namespace.
    /// </summary>
    public T RunInside<T>(Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{Name}");
                if (setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns into {Name} failed: errno {Marshal.GetLastPInvokeError()}");
                }

                result = action();
            }
            catch (Exception e)
            {
                error = e;
            }
        })
        {
            IsBackground = true,
            Name = "netns " + Name,
        };
        thread.Start();
        thread.Join();
        if (error is not null)
        {
            throw new InvalidOperationException($"In network namespace {Name}: {error.Message}", error);
        }

        return result;
    }

    /// <summary>Deletes the namespace (its devices and any TUN device made inside go with it).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await IpAsync("netns", "del", Name).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Already gone: nothing to clean up.
        }
    }

    private static async Task IpAsync(params string[] args)
    {
        var (exitCode, _, stderr) = await TestProcess.RunAsync(TestProcess.StartInfo(IpPath() ?? "ip", args), TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed ({exitCode}): {stderr.Trim()}");
        }
    }

    private static string? IpPath()
    {
        foreach (var path in (string[])["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"])
        {
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setns(int fd, int nstype);

    [DllImport("libc")]
    private static extern uint geteuid();
}
