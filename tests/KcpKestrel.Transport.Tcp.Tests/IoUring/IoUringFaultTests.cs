using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Tcp.IoUring;
using Microsoft.AspNetCore.Connections;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Tcp.Tests;

/// <summary>
/// The io_uring engine at its limits: a full submission queue, an overflowing completion queue, and a process out
/// of descriptors at accept. Each ends with every byte echoed in order and, through the base class, no descriptor
/// or provided buffer leaked.
/// </summary>
[Collection(nameof(IoUringTcpCollection))]
public sealed class IoUringFaultTests(ITestOutputHelper output) : IoUringTcpLeakChecks
{
    private const int Clients = 32;
    private const int BytesEach = 256 << 10;

    [Fact]
    public async Task SubmissionQueueFull_ManyConnectionsInOneBatch_EchoesEveryByteInOrder()
    {
        if (IoUringTcpTestSupport.Unavailable(TcpEngine.IoUring, output))
        {
            return;
        }

        // Two SQ entries: a batch of accepts arms a receive each, and a batch of receives queues a send each,
        // so GetSqe finds the queue full and must submit in the middle of a completion batch.
        var listener = Track(IoUringTcpTestSupport.Bind(new IoUringTcpTuning { SqEntries = 2 }));
        await EchoAndStopAsync(listener);

        output.WriteLine($"SQ-full submits: {listener.SqFullSubmits}");
        Assert.True(listener.SqFullSubmits > 0, "a two-entry submission queue never filled");
    }

    [Fact]
    public async Task CompletionQueueOverflow_BurstOfCompletions_LosesNone()
    {
        if (IoUringTcpTestSupport.Unavailable(TcpEngine.IoUring, output))
        {
            return;
        }

        // Two CQ entries for the completions of 32 connections' multishot receives and sends: the kernel holds the
        // rest back (IORING_FEAT_NODROP, which the engine requires) and ends multishot requests it cannot post for;
        // the worker must flush them in and re-arm, or a connection stalls and the echo times out.
        var listener = Track(IoUringTcpTestSupport.Bind(new IoUringTcpTuning { SqEntries = 2, CqEntries = 2 }));
        await EchoAndStopAsync(listener);

        output.WriteLine($"CQ overflow flushes: {listener.CqOverflowFlushes}");
        Assert.True(listener.CqOverflowFlushes > 0, "a two-entry completion queue never overflowed");
    }

    [Theory]
    [InlineData(TcpEngine.Epoll)]
    [InlineData(TcpEngine.IoUring)]
    public async Task AcceptOutOfDescriptors_BacksOffWithoutSpinning_ThenServesTheWaitingConnections(TcpEngine engine)
    {
        if (IoUringTcpTestSupport.Unavailable(engine, output))
        {
            return;
        }

        const int Waiting = 6;
        const int Free = 2;
        var logger = new ListLogger();

        // Restored at the end, however the test ends. Lowered before the bind: an io_uring accept keeps the limit it was armed with.
        using var limit = FileDescriptors.LowerLimit(headroom: 64);
        var (listener, acceptErrors, accepted) = Bind(engine, logger);
        Track(listener);
        var serving = IoUringTcpTestSupport.ServeEchoAsync(listener);
        var port = IoUringTcpTestSupport.PortOf(listener);

        // Warm: the runtime's socket engine and the echo path are up before descriptors run out.
        Assert.True(await IoUringTcpTestSupport.EchoRoundTripAsync(port, 1024, seed: 1));

        // The clients' own descriptors are made before the limit drops; connecting needs none.
        var clients = Enumerable.Range(0, Waiting).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)).ToArray();
        long acceptedWhileLimited;
        long errorsInWindow;
        using (limit.Exhaust(Free))
        {
            foreach (var client in clients)
            {
                // The kernel completes the handshake into the backlog whether or not accept can take it.
                await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TestWaits.Bound);
            }

            await TestWaits.WaitUntilAsync(() => acceptErrors() > 0, "an accept to fail with EMFILE");
            var errorsAtFirst = acceptErrors();

            // A window to count retries in: backing off from 5 ms, doubling, fits about 8 in a second;
            // an accept that re-armed at once would fail thousands of times.
            await Task.Delay(TimeSpan.FromSeconds(1));
            errorsInWindow = acceptErrors() - errorsAtFirst;
            acceptedWhileLimited = accepted() - 1;
        }

        output.WriteLine($"{engine}: accepted {acceptedWhileLimited} under the limit, {errorsInWindow} accept errors in the 1 s window");
        Assert.InRange(acceptedWhileLimited, 1, Free);
        Assert.InRange(errorsInWindow, 0, 15);

        // Descriptors are free again: the next retry (at most a second away) accepts the waiting connections, and each is served.
        var echoes = clients.Select((client, i) => IoUringTcpTestSupport.EchoRoundTripAsync(client, 64 << 10, seed: 100 + i)).ToArray();
        Assert.All(await Task.WhenAll(echoes), Assert.True);
        Assert.Equal(1 + Waiting, accepted());

        // One warning per back-off: every failed accept logged once, no more.
        Assert.Equal(acceptErrors(), logger.Count("AcceptBackoff"));
        foreach (var client in clients)
        {
            client.Dispose();
        }

        await listener.UnbindAsync();
        await serving.WaitAsync(TestWaits.Bound);
    }

    private static async Task EchoAndStopAsync(IoUringTcpConnectionListener listener)
    {
        var serving = IoUringTcpTestSupport.ServeEchoAsync(listener);
        Assert.True(await IoUringTcpTestSupport.EchoAllAsync(listener, Clients, BytesEach), "a connection's echo came back short or out of order");
        await listener.UnbindAsync();
        await serving.WaitAsync(TestWaits.Bound);

        // The figures are kept as each worker releases its ring.
        await listener.DisposeAsync();
    }

    /// <summary>A one-loop listener of <paramref name="engine"/> and the counters the back-off is checked with.</summary>
    private static (IConnectionListener Listener, Func<long> AcceptErrors, Func<long> Accepted) Bind(TcpEngine engine, ListLogger logger)
    {
        if (engine == TcpEngine.IoUring)
        {
            var uring = IoUringTcpTestSupport.Bind(IoUringTcpTuning.Default, logger);
            return (uring, () => uring.AcceptErrors, () => uring.Accepted);
        }

        var tuned = new TunedTcpConnectionListener(new IPEndPoint(IPAddress.Loopback, 0), new TunedTcpOptions { AcceptLoops = 1, FastOpenQueueLength = 0 }, logger);
        tuned.Bind();
        return (tuned, () => tuned.AcceptErrors, () => tuned.Accepted);
    }
}
