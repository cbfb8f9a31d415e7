using System.Globalization;
using KcpKestrel.Transport.UserTcp.Packets;

namespace KcpKestrel.Transport.UserTcp.Io;

/// <summary>
/// A packet source (the endpoint's TUN device, or the source it was given) and its loops, one per queue, each with
/// its own TCP stack. The listener and the connection factory each run one.
/// </summary>
internal sealed class UserTcpRuntime : IDisposable
{
    private readonly IPacketSource _source;
    private readonly bool _ownsSource;
    private readonly List<UserTcpLoopStack> _loops = [];
    private int _disposed;

    private UserTcpRuntime(UserTcpEndPoint endPoint, IPacketSource source, bool ownsSource)
    {
        EndPoint = endPoint;
        _source = source;
        _ownsSource = ownsSource;
    }

    /// <summary>The endpoint served.</summary>
    public UserTcpEndPoint EndPoint { get; }

    /// <summary>The loops, one per queue.</summary>
    public IReadOnlyList<UserTcpLoopStack> Loops => _loops;

    /// <summary>Opens the source (creating and configuring the TUN device unless the endpoint carries a source) and starts a loop per queue.</summary>
    /// <exception cref="TunUnavailableException">The device cannot be created (no root / CAP_NET_ADMIN, no /dev/net/tun).</exception>
    public static UserTcpRuntime Start(UserTcpEndPoint endPoint, UserTcpOptions options)
    {
        var queues = endPoint.QueueCount ?? options.QueueCount;
        var owns = endPoint.PacketSource is null;
        var source = endPoint.PacketSource ?? TunPacketSource.Open(endPoint, options.Mtu, queues);
        if (owns && endPoint.Impairment.Active)
        {
            // loss=P,seed=N in the spec: the device's packets are lost on purpose, both ways (tests of recovery).
            source = new LossyPacketSource(source, endPoint.Impairment, endPoint.ImpairmentSeed);
        }

        var runtime = new UserTcpRuntime(endPoint, source, owns);
        try
        {
            var count = Math.Min(queues, source.QueueCount);
            for (var i = 0; i < count; i++)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"usertcp-{endPoint.DeviceName}-{i}");
                var loop = new UserTcpLoop(name, source.OpenQueue(i), source.Mtu);
                var stack = new UserTcpLoopStack(loop, endPoint, options);
                loop.Handler = stack;
                runtime._loops.Add(stack);
                loop.Start();
            }

            return runtime;
        }
        catch
        {
            runtime.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="action"/> on every loop and waits for all.</summary>
    public Task ForEachLoopAsync(Action<UserTcpLoopStack, uint> action)
    {
        var tasks = new Task[_loops.Count];
        for (var i = 0; i < _loops.Count; i++)
        {
            var stack = _loops[i];
            tasks[i] = stack.Loop.InvokeAsync(now =>
            {
                action(stack, now);
                return true;
            });
        }

        return Task.WhenAll(tasks);
    }

    /// <summary>Aborts every connection (RST), stops the loops and closes the source it opened.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            // Bounded: a loop that died on a bug must not hang the host's shutdown.
            ForEachLoopAsync(static (stack, now) => stack.Stack.Shutdown(now)).Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // A loop that already ended; its connections end with it.
        }

        foreach (var stack in _loops)
        {
            stack.Loop.Dispose();
        }

        if (_ownsSource)
        {
            _source.Dispose();
        }
    }
}
