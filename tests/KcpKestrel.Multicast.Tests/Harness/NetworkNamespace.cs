using System.Runtime.InteropServices;

namespace KcpKestrel.Multicast.Tests.Harness;

/// <summary>
/// A Linux network namespace for one test (<c>ip netns add</c>), deleted on dispose, with its loopback
/// up; <see cref="Link"/> joins two with a veth pair, a real multicast-capable link. Sockets
/// belong to the namespace of the thread that creates them, so <see cref="Enter{T}"/> runs code on a
/// dedicated thread moved into the namespace with setns(2); the threads a transport starts there
/// inherit it.
/// </summary>
internal sealed class NetworkNamespace : IDisposable
{
    private const int CloneNewNet = 0x40000000;

    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    /// <summary>Why this machine cannot make namespaces (not Linux, not root, no <c>ip</c>), or null.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces are Linux only";
        }

        if (geteuid() != 0)
        {
            return "creating a network namespace needs root";
        }

        if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip"))
        {
            return "the ip command (iproute2) is not installed";
        }

        try
        {
            using var probe = Create();
            return null;
        }
        catch (InvalidOperationException e)
        {
            return e.Message;
        }
    }

    /// <summary>A new namespace with its loopback up.</summary>
    public static NetworkNamespace Create()
    {
        var ns = new NetworkNamespace($"kkmc{Environment.ProcessId}x{Random.Shared.Next(1 << 20):x}");
        Ip("netns", "add", ns.Name);
        try
        {
            ns.Run("link", "set", "lo", "up");
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Joins <paramref name="a"/> and <paramref name="b"/> with a veth pair holding 10.77.x.1/24 and
    /// 10.77.x.2/24, or fd77:x::1/64 and fd77:x::2/64 (x picked at random); returns those addresses.
    /// Each namespace is a real second host to the other: datagrams cross a network device. (A
    /// namespace's own <c>lo</c> does not loop IPv6 multicast back even with its MULTICAST flag set.)
    /// </summary>
    public static (string A, string B) Link(NetworkNamespace a, NetworkNamespace b, bool v6 = false)
    {
        var subnet = Random.Shared.Next(1, 255);
        // Interface names hold at most 15 characters, fewer than a namespace name.
        var id = Random.Shared.Next(1 << 24);
        var (endA, endB) = ($"kkmc{id:x6}a", $"kkmc{id:x6}b");
        Ip("link", "add", endA, "netns", a.Name, "type", "veth", "peer", "name", endB, "netns", b.Name);
        var (addressA, addressB) = v6 ? ($"fd77:{subnet:x}::1", $"fd77:{subnet:x}::2") : ($"10.77.{subnet}.1", $"10.77.{subnet}.2");
        string[] prefix = v6 ? ["/64", "nodad"] : ["/24"];

        // nodad: the address is usable at once, not after duplicate address detection (about a second).
        a.Run(["addr", "add", addressA + prefix[0], .. prefix[1..], "dev", endA]);
        b.Run(["addr", "add", addressB + prefix[0], .. prefix[1..], "dev", endB]);
        a.Run("link", "set", endA, "up");
        b.Run("link", "set", endB, "up");
        return (addressA, addressB);
    }

    /// <summary>Runs <c>ip -n Name args</c>.</summary>
    public void Run(params string[] args) => Ip(["-n", Name, .. args]);

    /// <summary>Runs <paramref name="action"/> on a new thread inside this namespace.</summary>
    public T Enter<T>(Func<T> action)
    {
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
        });
        thread.Start();
        thread.Join();
        if (error is not null)
        {
            throw new InvalidOperationException($"In network namespace {Name}: {error.Message}", error);
        }

        return result;
    }

    public void Dispose()
    {
        try
        {
            Ip("netns", "del", Name);
        }
        catch (InvalidOperationException)
        {
            // Already gone: nothing to clean up.
        }
    }

    private static void Ip(params string[] args)
    {
        var (exitCode, _, stderr) = TestProcess.RunAsync(TestProcess.StartInfo("ip", args), TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed ({exitCode}): {stderr.Trim()}");
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setns(int fd, int nstype);

    [DllImport("libc")]
    private static extern uint geteuid();
}
