using System.Net;
using System.Net.Sockets;
using KcpKestrel.IoUring;
using KcpKestrel.Transport.Tcp.IoUring;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Tcp.Tests;

/// <summary>
/// The io_uring engine's architectures (sharding, reactor) and options (SQPOLL, CPU affinity with CBPF steering):
/// each echoes byte-exact and drains without leaking a descriptor. In the io_uring collection: the fd counts must
/// see no other test's sockets.
/// </summary>
[Collection(nameof(IoUringEngineTests))]
public sealed class IoUringArchitectureTests(ITestOutputHelper output)
{
    private static IoUringTcpConnectionListener Listener(Action<TunedTcpOptions> tune, bool msgRingSupported = true)
    {
        var options = new TunedTcpOptions { AcceptLoops = 2, FastOpenQueueLength = 0, Engine = TcpEngine.IoUring };
        tune(options);
        options.Validate();
        return new IoUringTcpConnectionListener(new IPEndPoint(IPAddress.Loopback, 0), options, NullLogger.Instance)
        {
            MsgRingSupported = msgRingSupported && IoUringProbe.Shared.Supports(IoUringOp.MsgRing),
        };
    }

    private static int PortOf(IoUringTcpConnectionListener listener) => ((IPEndPoint)listener.EndPoint).Port;

    [Theory]
    [InlineData(IoUringArchitecture.SocketSharding, false, false)]
    [InlineData(IoUringArchitecture.Reactor, false, false)]
    [InlineData(IoUringArchitecture.SocketSharding, true, false)]
    [InlineData(IoUringArchitecture.Reactor, true, false)]
    [InlineData(IoUringArchitecture.SocketSharding, false, true)]
    [InlineData(IoUringArchitecture.Reactor, false, true)]
    public async Task Echo_ArchitectureAndOptions_ReturnsEveryByteAndLeaksNoDescriptor(IoUringArchitecture architecture, bool sqPoll, bool affinity)
    {
        if (IoUringTcpTestSupport.Unavailable(TcpEngine.IoUring, output))
        {
            return;
        }

        // The first socket I/O of the process opens the runtime's own epoll descriptors: open them before counting.
        var warmUp = Listener(_ => { });
        warmUp.Bind();
        await EchoOnceAsync(warmUp);

        var before = FileDescriptors.Count();
        var listener = Listener(o => (o.Architecture, o.SqPoll, o.CpuAffinity) = (architecture, sqPoll, affinity));
        listener.Bind();
        Assert.Equal(architecture, listener.Architecture);
        Assert.Equal(2, listener.Workers.Count);
        var serving = IoUringTcpTestSupport.ServeEchoAsync(listener);

        // 1 MiB each, past nothing in particular: several connections so both workers get some.
        var clients = Enumerable.Range(0, 6).Select(i => IoUringTcpTestSupport.EchoRoundTripAsync(PortOf(listener), 1 << 20, seed: 20 + i)).ToArray();
        Assert.All(await Task.WhenAll(clients), Assert.True);
        Assert.Equal(6, listener.Accepted);

        await listener.UnbindAsync().AsTask().WaitAsync(TestWaits.Bound);
        await serving.WaitAsync(TestWaits.Bound);
        await listener.DisposeAsync().AsTask().WaitAsync(TestWaits.Bound);
        await FileDescriptors.WaitForAtMostAsync(before);
    }

    [Fact]
    public async Task Reactor_ConnectionsHeldOpen_SpreadOverTheWorkers()
    {
        if (IoUringTcpTestSupport.Unavailable(TcpEngine.IoUring, output))
        {
            return;
        }

        await using var listener = Listener(o => (o.Architecture, o.AcceptLoops) = (IoUringArchitecture.Reactor, 3));
        listener.Bind();
        var clients = new List<Socket>();
        var connections = new List<ConnectionContext>();
        for (var i = 0; i < 6; i++)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            clients.Add(client);
            await client.ConnectAsync(IPAddress.Loopback, PortOf(listener)).WaitAsync(TestWaits.Bound);
            connections.Add((await listener.AcceptAsync().AsTask().WaitAsync(TestWaits.Bound))!);
        }

        // Fewest live connections first: six held open over three workers is two each.
        Assert.All(listener.Workers, w => Assert.Equal(2, w.Accepted));
        foreach (var client in clients)
        {
            client.Dispose();
        }

        foreach (var connection in connections)
        {
            await connection.DisposeAsync().AsTask().WaitAsync(TestWaits.Bound);
        }
    }

    [Theory]
    [InlineData(IoUringArchitecture.Reactor)]
    [InlineData(IoUringArchitecture.SocketSharding)]
    public async Task Dispose_ConnectionsStillOpen_AbortsThemAndLeaksNoDescriptor(IoUringArchitecture architecture)
    {
        if (IoUringTcpTestSupport.Unavailable(TcpEngine.IoUring, output))
        {
            return;
        }

        var warmUp = Listener(_ => { });
        warmUp.Bind();
        await EchoOnceAsync(warmUp);

        var before = FileDescriptors.Count();
        var listener = Listener(o => (o.Architecture, o.CpuAffinity) = (architecture, true));
        listener.Bind();
        var clients = new List<Socket>();
        var connections = new List<ConnectionContext>();
        for (var i = 0; i < 6; i++)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            clients.Add(client);
            await client.ConnectAsync(IPAddress.Loopback, PortOf(listener)).WaitAsync(TestWaits.Bound);
            connections.Add((await listener.AcceptAsync().AsTask().WaitAsync(TestWaits.Bound))!);
        }

        // Kestrel's shutdown, past its deadline: the listener goes with the connections still open.
        await listener.UnbindAsync().AsTask().WaitAsync(TestWaits.Bound);
        await listener.DisposeAsync().AsTask().WaitAsync(TestWaits.Bound);
        foreach (var connection in connections)
        {
            await TestWaits.WaitUntilAsync(() => connection.ConnectionClosed.IsCancellationRequested, "ConnectionClosed");
            await connection.DisposeAsync().AsTask().WaitAsync(TestWaits.Bound);
        }

        foreach (var client in clients)
        {
            client.Dispose();
        }

        await FileDescriptors.WaitForAtMostAsync(before);
    }

    [Fact]
    public async Task Reactor_OverTheLimit_ClosesAtTheAcceptor()
    {
        if (IoUringTcpTestSupport.Unavailable(TcpEngine.IoUring, output))
        {
            return;
        }

        await using var listener = Listener(o => (o.Architecture, o.MaxConnections) = (IoUringArchitecture.Reactor, 2));
        listener.Bind();
        var clients = new List<Socket>();
        for (var i = 0; i < 3; i++)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            clients.Add(client);
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, PortOf(listener)).WaitAsync(TestWaits.Bound);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset && i == 2)
            {
                // On loopback the acceptor's reset may beat the connect's completion.
            }
        }

        await TestWaits.WaitUntilAsync(() => listener.RejectedOverLimit == 1, "the third connection to be refused");
        Assert.Equal(2, listener.ActiveConnections);
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task Reactor_MsgRingMissing_FallsBackToSocketSharding()
    {
        if (IoUringTcpTestSupport.Unavailable(TcpEngine.IoUring, output))
        {
            return;
        }

        var listener = Listener(o => o.Architecture = IoUringArchitecture.Reactor, msgRingSupported: false);
        listener.Bind();
        Assert.Equal(IoUringArchitecture.SocketSharding, listener.Architecture);
        await EchoOnceAsync(listener);
    }

    /// <summary>One 64 KiB echo, then unbind and dispose.</summary>
    private static async Task EchoOnceAsync(IoUringTcpConnectionListener listener)
    {
        var serving = IoUringTcpTestSupport.ServeEchoAsync(listener);
        Assert.True(await IoUringTcpTestSupport.EchoRoundTripAsync(PortOf(listener), 64 << 10, seed: 30));
        await listener.UnbindAsync().AsTask().WaitAsync(TestWaits.Bound);
        await serving.WaitAsync(TestWaits.Bound);
        await listener.DisposeAsync().AsTask().WaitAsync(TestWaits.Bound);
    }

    [Fact]
    public async Task Affinity_Sharding_PinsEachWorkerToTheCpuItsSocketIsSteeredFrom()
    {
        if (IoUringTcpTestSupport.Unavailable(TcpEngine.IoUring, output))
        {
            return;
        }

        var allowed = IoUringTcpAffinity.AllowedCpus();
        await using var listener = Listener(o => o.CpuAffinity = true);
        listener.Bind();
        Assert.True(listener.Steered, "the kernel refused the reuseport CBPF program");
        for (var i = 0; i < listener.Workers.Count; i++)
        {
            var expected = IoUringTcpAffinity.CpuForWorker(i, listener.Workers.Count, allowed, steered: true);
            Assert.Equal(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), CpusAllowedOfThread(listener.Workers[i].NativeThreadId));
        }
    }

    [Fact]
    public async Task Affinity_Sharding_ConnectionLandsOnTheWorkerOfTheCpuThatSentTheSyn()
    {
        if (IoUringTcpTestSupport.Unavailable(TcpEngine.IoUring, output))
        {
            return;
        }

        var allowed = IoUringTcpAffinity.AllowedCpus();
        if (allowed.Length < 2)
        {
            output.WriteLine($"SKIPPED: needs two CPUs to steer between, the process may use {allowed.Length}");
            return;
        }

        await using var listener = Listener(o => o.CpuAffinity = true);
        listener.Bind();
        Assert.True(listener.Steered);
        var clients = new List<Socket>();
        foreach (var cpu in allowed.Take(2))
        {
            // On loopback the SYN is processed on the CPU that calls connect(): a thread pinned there connects.
            var connect = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                try
                {
                    Assert.Equal(0, IoUringTcpAffinity.PinCurrentThread(cpu));
                    var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    client.Connect(IPAddress.Loopback, PortOf(listener));
                    connect.SetResult(client);
                }
                catch (Exception e)
                {
                    connect.SetException(e);
                }
            });
            thread.Start();
            clients.Add(await connect.Task.WaitAsync(TestWaits.Bound));
            var worker = listener.Workers[cpu % listener.Workers.Count];
            await TestWaits.WaitUntilAsync(() => worker.Accepted == 1, $"worker {worker.Index} (CPU {cpu}) to accept the connection from CPU {cpu}");
            _ = await listener.AcceptAsync().AsTask().WaitAsync(TestWaits.Bound);
        }

        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    /// <summary>Cpus_allowed_list of this process's thread named <paramref name="name"/>.</summary>
    // By kernel thread id: other tests' io_uring workers (in parallel collections) carry the same thread names.
    private static string CpusAllowedOfThread(int tid) =>
        File.ReadAllLines($"/proc/self/task/{tid}/status").First(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)).Split(':')[1].Trim();
}
