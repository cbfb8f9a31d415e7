using KcpKestrel.Transport.Tcp;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace KcpKestrel.Cli.Serve;

/// <summary>
/// Which TCP transport serve runs: <c>sockets</c> (Kestrel's own), <c>epoll</c> (the tuned listener, epoll engine)
/// or <c>iouring</c> (the tuned listener, io_uring engine), with the tuned listener's options.
/// </summary>
/// <param name="Engine">One of <see cref="Engines"/>.</param>
/// <param name="Tuned">The tuned listener's options; null for <c>sockets</c>.</param>
internal sealed record TcpServeOptions(string Engine, TunedTcpOptions? Tuned)
{
    public const string Sockets = "sockets";
    public const string Epoll = "epoll";
    public const string IoUring = "iouring";

    /// <summary>The engine serve runs without <c>--tcp-engine</c>. Set from the measurements (benchmarks/results/tcp-iouring.md).</summary>
    public const string DefaultEngine = IoUring;

    public static readonly string[] Engines = [IoUring, Epoll, Sockets];

    public static readonly string[] Architectures = ["sharding", "reactor"];

    /// <summary>The default engine with the tuned listener's default options.</summary>
    public static TcpServeOptions Default { get; } = For(DefaultEngine, _ => { });

    /// <summary>Options for <paramref name="engine"/>; <paramref name="tune"/> adjusts the tuned listener's.</summary>
    public static TcpServeOptions For(string engine, Action<TunedTcpOptions> tune)
    {
        if (engine == Sockets)
        {
            return new TcpServeOptions(engine, null);
        }

        var options = new TunedTcpOptions { Engine = engine == IoUring ? TcpEngine.IoUring : TcpEngine.Epoll };
        tune(options);
        options.Validate();
        return new TcpServeOptions(engine, options);
    }

    public static IoUringArchitecture ParseArchitecture(string name) =>
        name == "reactor" ? IoUringArchitecture.Reactor : IoUringArchitecture.SocketSharding;

    /// <summary>Registers the transport with the host.</summary>
    public void Apply(IWebHostBuilder webHost)
    {
        if (Tuned is null)
        {
            // UseKcp registers a factory, after which UseKestrel would not add its sockets one: add it here.
            webHost.UseSockets();
            return;
        }

        var tuned = Tuned;
        webHost.UseTunedTcp(o =>
        {
            o.Engine = tuned.Engine;
            o.Architecture = tuned.Architecture;
            o.AcceptLoops = tuned.AcceptLoops;
            o.SqPoll = tuned.SqPoll;
            o.CpuAffinity = tuned.CpuAffinity;
        });
    }

    /// <summary>What actually serves TCP, after any fallback (io_uring refused: epoll; no MSG_RING: sharding).</summary>
    public string Describe(IServiceProvider services)
    {
        if (Tuned is null)
        {
            return $"tcp engine={Sockets}";
        }

        foreach (var factory in services.GetServices<IConnectionListenerFactory>())
        {
            if (factory is not TunedTcpConnectionListenerFactory tuned)
            {
                continue;
            }

            foreach (var uring in tuned.IoUringListeners)
            {
                var architecture = uring.Architecture == IoUringArchitecture.Reactor ? "reactor" : "sharding";
                return $"tcp engine={IoUring} architecture={architecture} workers={uring.Workers.Count} sqpoll={OnOff(Tuned.SqPoll)} affinity={OnOff(Tuned.CpuAffinity)}{(uring.Steered ? " cbpf=on" : string.Empty)}";
            }

            foreach (var epoll in tuned.Listeners)
            {
                return $"tcp engine={Epoll} loops={epoll.LoopCount}";
            }
        }

        return $"tcp engine={Engine}";
    }

    private static string OnOff(bool value) => value ? "on" : "off";
}
