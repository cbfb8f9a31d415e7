using System.Net;

namespace KcpKestrel.Transport.Tcp;

/// <summary>Options of the tuned TCP listener.</summary>
/// <remarks>
/// Linux-specific options (SO_REUSEPORT, TCP_FASTOPEN, TCP_DEFER_ACCEPT) are skipped with a logged warning on
/// other systems; when the kernel refuses an option the listener logs a warning and carries on without it.
/// </remarks>
public sealed class TunedTcpOptions
{
    /// <summary>The most <see cref="AcceptLoops"/> (workers) allowed.</summary>
    public const int MaxAcceptLoops = 1024;

    /// <summary>The shortest <see cref="SqPollIdleMilliseconds"/> allowed.</summary>
    public const int MinSqPollIdleMilliseconds = 1;

    /// <summary>The longest <see cref="SqPollIdleMilliseconds"/> allowed.</summary>
    public const int MaxSqPollIdleMilliseconds = 60_000;

    /// <summary>Number of accept loops, each with its own SO_REUSEPORT listening socket; with the
    /// <see cref="TcpEngine.IoUring"/> engine, the number of workers (a thread and a ring each; with
    /// <see cref="IoUringArchitecture.Reactor"/> they share one listening socket and an acceptor). Default: processor count;
    /// 1 to <see cref="MaxAcceptLoops"/>.</summary>
    public int AcceptLoops { get; set; } = Environment.ProcessorCount;

    /// <summary>Listen backlog of each listening socket; also the capacity of the queue of accepted connections
    /// waiting for Kestrel.</summary>
    public int Backlog { get; set; } = 512;

    /// <summary>TCP_FASTOPEN queue length; 0 turns Fast Open off. The server side also needs bit 2 of the
    /// <c>net.ipv4.tcp_fastopen</c> sysctl (e.g. value 3); the listener logs a warning when it is missing.</summary>
    public int FastOpenQueueLength { get; set; } = 256;

    /// <summary>TCP_DEFER_ACCEPT: seconds the kernel holds a connection until data arrives; 0 (the default) turns it off.
    /// 1 suits HTTP, HTTP/2 and TLS, where the client speaks first: the connection arrives with its first bytes and
    /// the server skips a wake-up per connection (0.78-0.85× server CPU per <c>Connection: close</c> request,
    /// benchmarks/results/tcp.md). It stays off by default because a protocol where the server speaks first would
    /// make its clients wait out the period.</summary>
    public int DeferAcceptSeconds { get; set; }

    /// <summary>Sets TCP_NODELAY on accepted connections.</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>Maximum open connections; past it new connections are closed at accept and counted. 0: no limit.</summary>
    public int MaxConnections { get; set; }

    /// <summary>Seconds of idleness before the first keep-alive probe (SO_KEEPALIVE + TCP_KEEPIDLE); 0 leaves
    /// TCP keep-alive off.</summary>
    public int KeepAliveIdleSeconds { get; set; }

    /// <summary>Seconds between keep-alive probes (TCP_KEEPINTVL), used when <see cref="KeepAliveIdleSeconds"/> is set.</summary>
    public int KeepAliveIntervalSeconds { get; set; } = 15;

    /// <summary>Unanswered keep-alive probes before the connection is dropped (TCP_KEEPCNT), used when
    /// <see cref="KeepAliveIdleSeconds"/> is set.</summary>
    public int KeepAliveProbeCount { get; set; } = 4;

    /// <summary>SO_RCVBUF of the listening sockets, inherited by accepted connections; 0 keeps the kernel default.</summary>
    public int ReceiveBufferSize { get; set; }

    /// <summary>SO_SNDBUF of the listening sockets, inherited by accepted connections; 0 keeps the kernel default.</summary>
    public int SendBufferSize { get; set; }

    /// <summary>When binding an IPv6 address (such as <see cref="IPAddress.IPv6Any"/>), also accept IPv4 connections
    /// (IPV6_V6ONLY off).</summary>
    public bool DualMode { get; set; } = true;

    /// <summary>
    /// When true (the default) the factory registered by <c>UseTunedTcp</c> binds every plain <see cref="IPEndPoint"/>
    /// Kestrel listens on (<c>Listen</c>, <c>ListenAnyIP</c>, URLs), replacing Kestrel's default sockets transport for them.
    /// When false it binds only <see cref="TunedTcpEndPoint"/> endpoints (<c>ListenTunedTcp</c>) and leaves plain
    /// <see cref="IPEndPoint"/> endpoints to Kestrel's default sockets transport, so both run side by side.
    /// Subclasses of <see cref="IPEndPoint"/> other than <see cref="TunedTcpEndPoint"/> are never bound.
    /// Ignored in the per-endpoint <see cref="TunedTcpEndPoint.Options"/>.
    /// </summary>
    public bool BindAllIPEndPoints { get; set; } = true;

    /// <summary>The engine under the connections: <see cref="TcpEngine.IoUring"/> (the default: the fastest measured,
    /// 1.2-1.9x Kestrel's sockets transport per core, benchmarks/results/tcp-iouring.md), which falls back to
    /// <see cref="TcpEngine.Epoll"/> (Kestrel's socket connections) with one logged line where io_uring cannot run, or
    /// <see cref="TcpEngine.Epoll"/> itself. Bound from configuration by name (e.g. <c>"Engine": "Epoll"</c>).</summary>
    public TcpEngine Engine { get; set; } = TcpEngine.IoUring;

    /// <summary>With the <see cref="TcpEngine.IoUring"/> engine: <see cref="IoUringArchitecture.SocketSharding"/> (the
    /// default) or <see cref="IoUringArchitecture.Reactor"/>. Bound from configuration by name (e.g.
    /// <c>"Architecture": "Reactor"</c>). Ignored by the epoll engine.</summary>
    public IoUringArchitecture Architecture { get; set; } = IoUringArchitecture.SocketSharding;

    /// <summary>
    /// With the <see cref="TcpEngine.IoUring"/> engine: each ring gets a kernel thread that polls its submission queue
    /// (IORING_SETUP_SQPOLL), so submitting costs no system call while that thread is awake. It costs one kernel thread
    /// per ring, spinning on a core until <see cref="SqPollIdleMilliseconds"/> pass without work; and since the kernel
    /// then is the submitter, the rings run without SINGLE_ISSUER and DEFER_TASKRUN (completions are produced as they
    /// happen instead of when the worker asks). Off by default; pays only with cores to spare.
    /// </summary>
    public bool SqPoll { get; set; }

    /// <summary>With <see cref="SqPoll"/>: milliseconds without submissions before the polling thread sleeps (the next
    /// submission then wakes it with a system call). <see cref="MinSqPollIdleMilliseconds"/> to
    /// <see cref="MaxSqPollIdleMilliseconds"/>; default 50.</summary>
    public int SqPollIdleMilliseconds { get; set; } = 50;

    /// <summary>
    /// With the <see cref="TcpEngine.IoUring"/> engine: pins worker <c>i</c> to the <c>i</c>-th CPU the process may run
    /// on (sched_setaffinity). With <see cref="IoUringArchitecture.SocketSharding"/> and more than one worker it also
    /// attaches a classic BPF program to the SO_REUSEPORT group that picks the socket of the worker on the CPU that
    /// took the connection's packets (SO_ATTACH_REUSEPORT_CBPF), so a connection is served where its packets land.
    /// That spreads connections only as far as the packets are spread: with a NIC that spreads them over the CPUs
    /// (RSS/RPS) every worker gets its share, but with one receive queue, or on loopback (where the client's CPU
    /// takes the SYN), every connection lands on one worker. Off by default: it pays when the workers have the
    /// machine's cores to themselves and the NIC spreads the load.
    /// </summary>
    public bool CpuAffinity { get; set; }

    /// <summary>
    /// <see cref="TcpEngine.IoUring"/> only: sends of at least this many bytes go out zero-copy (IORING_OP_SEND_ZC /
    /// SENDMSG_ZC: the kernel sends from the pipe's pinned pages and says when it is done with them, instead of
    /// copying them); 0, the default, copies every send. Zero-copy costs a second completion per send and page
    /// pinning, so it pays only for large writes leaving through a real NIC (loopback copies anyway); kernels
    /// without the ops copy. Range 0 or 4096 and up.
    /// </summary>
    public int ZeroCopySendThreshold { get; set; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(AcceptLoops, 1, nameof(AcceptLoops));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(AcceptLoops, MaxAcceptLoops, nameof(AcceptLoops));
        ArgumentOutOfRangeException.ThrowIfLessThan(Backlog, 1, nameof(Backlog));
        ArgumentOutOfRangeException.ThrowIfNegative(FastOpenQueueLength, nameof(FastOpenQueueLength));
        ArgumentOutOfRangeException.ThrowIfNegative(DeferAcceptSeconds, nameof(DeferAcceptSeconds));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxConnections, nameof(MaxConnections));
        // Linux caps TCP_KEEPIDLE/TCP_KEEPINTVL at 32767 s and TCP_KEEPCNT at 127.
        ArgumentOutOfRangeException.ThrowIfNegative(KeepAliveIdleSeconds, nameof(KeepAliveIdleSeconds));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(KeepAliveIdleSeconds, 32767, nameof(KeepAliveIdleSeconds));
        ArgumentOutOfRangeException.ThrowIfLessThan(KeepAliveIntervalSeconds, 1, nameof(KeepAliveIntervalSeconds));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(KeepAliveIntervalSeconds, 32767, nameof(KeepAliveIntervalSeconds));
        ArgumentOutOfRangeException.ThrowIfLessThan(KeepAliveProbeCount, 1, nameof(KeepAliveProbeCount));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(KeepAliveProbeCount, 127, nameof(KeepAliveProbeCount));
        ArgumentOutOfRangeException.ThrowIfNegative(ReceiveBufferSize, nameof(ReceiveBufferSize));
        ArgumentOutOfRangeException.ThrowIfNegative(SendBufferSize, nameof(SendBufferSize));
        if (ZeroCopySendThreshold is < 0 or (> 0 and < 4096))
        {
            throw new ArgumentOutOfRangeException(nameof(ZeroCopySendThreshold), ZeroCopySendThreshold, "0 (off) or at least 4096 bytes.");
        }

        if (!Enum.IsDefined(Engine))
        {
            throw new ArgumentOutOfRangeException(nameof(Engine), Engine, "Epoll or IoUring.");
        }

        if (!Enum.IsDefined(Architecture))
        {
            throw new ArgumentOutOfRangeException(nameof(Architecture), Architecture, "SocketSharding or Reactor.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(SqPollIdleMilliseconds, MinSqPollIdleMilliseconds, nameof(SqPollIdleMilliseconds));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(SqPollIdleMilliseconds, MaxSqPollIdleMilliseconds, nameof(SqPollIdleMilliseconds));
    }

    internal TunedTcpOptions Clone() => (TunedTcpOptions)MemberwiseClone();
}
