using System.CommandLine;
using KcpKestrel.Cli.Serve;
using KcpKestrel.Transport.Tcp;

namespace KcpKestrel.Cli.Commands;

/// <summary>serve's TCP transport flags: the engine, and the io_uring engine's architecture and options (<see cref="TunedTcpOptions"/>).</summary>
internal sealed class TcpFlags
{
    private readonly Option<string?> _engine = Flags.Choice(
        "--tcp-engine",
        $"TCP transport: iouring or epoll (the tuned listener with that engine; iouring falls back to epoll where the kernel refuses it) or sockets (Kestrel's own); default {TcpServeOptions.DefaultEngine}",
        TcpServeOptions.Engines);

    private readonly Option<string?> _architecture = Flags.Choice(
        "--tcp-architecture",
        "io_uring engine: one listening socket per worker (sharding, the default) or one acceptor passing connections to the workers (reactor)",
        TcpServeOptions.Architectures);

    private readonly Option<int?> _workers = Flags.Int(
        "--tcp-workers",
        "Tuned listener: accept loops (epoll) or workers (iouring); default the processor count",
        1,
        TunedTcpOptions.MaxAcceptLoops);

    private readonly Option<bool> _affinity = new("--tcp-affinity")
    {
        Description = "io_uring engine: pin worker i to the i-th allowed CPU; with sharding, steer each connection to the worker of its CPU (reuseport CBPF)",
    };

    private readonly Option<bool> _sqPoll = new("--tcp-sqpoll")
    {
        Description = "io_uring engine: a kernel thread polls each ring's submission queue (IORING_SETUP_SQPOLL; one kernel thread per ring)",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_engine);
        command.Options.Add(_architecture);
        command.Options.Add(_workers);
        command.Options.Add(_affinity);
        command.Options.Add(_sqPoll);
    }

    /// <summary>The transport asked for; a flag the engine does not read throws <see cref="UsageException"/>.</summary>
    public TcpServeOptions Build(ParseResult result)
    {
        var engine = result.GetValue(_engine) ?? TcpServeOptions.DefaultEngine;
        var architecture = result.GetValue(_architecture);
        var workers = result.GetValue(_workers);
        var affinity = result.GetValue(_affinity);
        var sqPoll = result.GetValue(_sqPoll);
        if (engine != TcpServeOptions.IoUring)
        {
            var flag = architecture is not null ? "--tcp-architecture" : affinity ? "--tcp-affinity" : sqPoll ? "--tcp-sqpoll" : null;
            if (flag is not null)
            {
                throw new UsageException($"{flag} applies only with --tcp-engine iouring (the engine is {engine}).");
            }

            if (engine == TcpServeOptions.Sockets && workers is not null)
            {
                throw new UsageException("--tcp-workers applies only with --tcp-engine epoll or iouring (sockets is Kestrel's own transport).");
            }
        }

        return TcpServeOptions.For(engine, o =>
        {
            o.AcceptLoops = workers ?? o.AcceptLoops;
            o.Architecture = architecture is null ? o.Architecture : TcpServeOptions.ParseArchitecture(architecture);
            o.CpuAffinity = affinity;
            o.SqPoll = sqPoll;
        });
    }
}
