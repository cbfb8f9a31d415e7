using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.IoUring;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;
using KcpKestrel.Transport.Kcp.Listener;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;
using static KcpKestrel.Transport.Kcp.Tests.IoUring.IoUringTestSupport;

namespace KcpKestrel.Transport.Kcp.Tests.IoUring;

/// <summary>
/// The start-up probe said yes, then a loop's own ring setup failed (its buffer ring refused with
/// ENOMEM or EPERM, simulated through <see cref="UdpIoOverrides.IoUringRegisterFault"/>): the loop
/// runs on epoll instead, the listener says why in one line, and nothing leaks.
/// </summary>
[Collection(IoUringTestCollection.Name)]
public sealed class IoUringLateFallbackTests(ITestOutputHelper output)
{
    private const int ENOMEM = 12;
    private const int EPERM = 1;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(ENOMEM, "ENOMEM")]
    [InlineData(EPERM, "EPERM")]
    public void Loop_BufferRingRefused_RunsOnEpollSayingWhy_AndClosesTheRing(int errno, string name)
    {
        if (Unavailable(output))
        {
            return;
        }

        var before = OpenDescriptors();
        using (var loop = new KcpIoLoop("iouring-late", 2048, UdpIoMode.IoUring, new UdpIoOverrides { IoUringRegisterFault = errno }))
        {
            Assert.Equal(UdpIoMode.Native, loop.Mode);
            Assert.IsType<EpollLoopPoller>(loop.Poller);
            Assert.NotNull(loop.FallbackReason);
            Assert.Contains(name, loop.FallbackReason, StringComparison.Ordinal);
            Assert.Contains("using epoll", loop.FallbackReason, StringComparison.Ordinal);
            output.WriteLine(loop.FallbackReason);
        }

        // The ring made before the refusal is closed again: only the epoll loop's descriptors came and went.
        Assert.Equal(before, OpenDescriptors());
    }

    [Fact]
    public void Loop_RingSetUpOnAnotherThread_ReceivesOnTheThreadThatWaits()
    {
        if (Unavailable(output))
        {
            return;
        }

        // The ring is made (disabled) where the loop is constructed and enabled by the thread that first
        // enters it; a ring made single-issuer on the constructing thread would refuse this one (EEXIST).
        KcpIoLoop? made = null;
        var constructor = new Thread(() => made = new KcpIoLoop("iouring-handoff", 2048, UdpIoMode.IoUring));
        constructor.Start();
        constructor.Join();
        using var loop = made!;
        Assert.Null(loop.FallbackReason);
        Assert.Equal(UdpIoMode.IoUring, loop.Mode);
        var flags = ((IoUringLoopPoller)loop.Poller).RingSetupFlags;
        output.WriteLine($"ring setup flags 0x{flags:x}");
        Assert.NotEqual(0u, flags & IoUringConstants.SetupRDisabled);

        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var counter = new CountingReceiver();
        var channel = loop.CreateChannel(server, counter, 2048, gso: false, gro: false);
        loop.AddChannel(channel);
        Assert.Equal(1, ReceiveOne(loop, peer, server, counter));
        loop.RemoveChannel(channel);
    }

    // Sends one datagram to server and drives the loop on this thread until it arrives (bounded).
    private static int ReceiveOne(KcpIoLoop loop, Socket peer, Socket server, CountingReceiver counter)
    {
        peer.SendTo(new byte[32], server.LocalEndPoint!);
        var deadline = Environment.TickCount64 + (long)Timeout.TotalMilliseconds;
        while (counter.Received == 0 && Environment.TickCount64 < deadline)
        {
            _ = loop.Poller.WaitAndReceive(100, loop);
        }

        return counter.Received;
    }

    [Fact]
    public void Loop_GroBufferRingRefused_SocketReceivesWithoutGro()
    {
        if (Unavailable(output))
        {
            return;
        }

        using var loop = new KcpIoLoop("iouring-gro-refused", 2048, UdpIoMode.IoUring, new UdpIoOverrides { IoUringGroRegisterFault = ENOMEM });
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var counter = new CountingReceiver();
        var channel = (IoUringUdpChannel)loop.CreateChannel(server, counter, 2048, gso: false, gro: true);
        if (!channel.GroEnabled)
        {
            output.WriteLine("SKIPPED: this kernel has no UDP_GRO");
            loop.RemoveChannel(channel);
            return;
        }

        loop.AddChannel(channel);
        Assert.False(channel.GroEnabled);
        Assert.Equal(1, ReceiveOne(loop, peer, server, counter));
        loop.RemoveChannel(channel);
    }

    [Fact]
    public async Task Listener_BufferRingRefused_BindsOnEpollWithOneLogLine_AndServes()
    {
        if (Unavailable(output))
        {
            return;
        }

        var logs = new ListLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
        var factory = new KcpConnectionListenerFactory(Options.Create(new KcpTransportOptions()), loggerFactory);
        var endPoint = new KcpEndPoint(IPAddress.Loopback, 0)
        {
            Configure = k =>
            {
                k.Crypt = "none";
                k.IoLoopCount = 2;
                k.IoOverrides = new UdpIoOverrides { Mode = UdpIoMode.IoUring, IoUringRegisterFault = ENOMEM };
            },
        };

        await using var listener = (KcpConnectionListener)await factory.BindAsync(endPoint);
        Assert.Equal(UdpIoMode.Native, listener.IoMode);
        var fallbacks = logs.Messages.Where(m => m.Contains("io_uring", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(fallbacks);
        Assert.Contains("ENOMEM", line, StringComparison.Ordinal);
        output.WriteLine(line);

        await using var client = KcpTestHost.Client(k => { k.Crypt = "none"; k.IoOverrides = new UdpIoOverrides { Mode = UdpIoMode.IoUring, IoUringRegisterFault = EPERM }; }).CreateFactory();
        Assert.Equal(UdpIoMode.Native, client.IoMode);
        var connection = await client.ConnectAsync(listener.EndPoint);
        await connection.Transport.Output.WriteAsync("over epoll after all"u8.ToArray());
        var server = await listener.AcceptAsync().AsTask().WaitAsync(Timeout);
        Assert.NotNull(server);
        var read = await server.Transport.Input.ReadAtLeastAsync(20).AsTask().WaitAsync(Timeout);
        Assert.Equal("over epoll after all", System.Text.Encoding.UTF8.GetString(read.Buffer.Slice(0, 20).ToArray()));
        server.Transport.Input.AdvanceTo(read.Buffer.End);
        await connection.DisposeAsync();
        await server.DisposeAsync();
    }

    private sealed class CountingReceiver : IDatagramReceiver
    {
        public int Received { get; private set; }

        public void OnDatagram(IDatagramChannel channel, Span<byte> datagram, ReadOnlySpan<byte> sockaddr, uint now) => Received++;
    }

    private sealed class ListLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => new ListLogger(Messages);

        public void Dispose()
        {
        }

        private sealed class ListLogger(ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue(formatter(state, exception));
        }
    }
}
