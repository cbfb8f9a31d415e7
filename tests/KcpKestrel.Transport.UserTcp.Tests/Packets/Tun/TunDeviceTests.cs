using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.UserTcp.Packets;
using KcpKestrel.Transport.UserTcp.Packets.Tun;
using KcpKestrel.Transport.UserTcp.Tcp;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets.Tun;

/// <summary>
/// A real TUN device in a network namespace of the test's own (<c>kkut-...</c>): the kernel's TCP talks to it, so
/// what the queue reads is what Linux sends, and what it writes Linux must accept. Needs root and /dev/net/tun; says
/// SKIPPED (with why) when they are missing.
/// </summary>
public sealed class TunDeviceTests(ITestOutputHelper output)
{
    private const string Device = "kktun0";
    private static readonly IPAddress KernelV4 = IPAddress.Parse("10.77.0.2");
    private static readonly IPAddress StackV4 = IPAddress.Parse("10.77.0.1");
    private static readonly IPAddress KernelV6 = IPAddress.Parse("fd00:77::2");
    private static readonly IPAddress StackV6 = IPAddress.Parse("fd00:77::1");

    private bool Skipped()
    {
        if (NetNamespace.Unavailable() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return true;
        }

        return false;
    }

    /// <summary>Creates and configures the device inside <paramref name="ns"/> and runs <paramref name="inside"/> there too.</summary>
    private static (TunDevice Device, T Value) OpenInside<T>(NetNamespace ns, int queues, Func<T> inside) => ns.RunInside(() =>
    {
        var device = TunDevice.Open(Device, queues, 1500);
        try
        {
            TunConfiguration.Configure(device.Name, 1500, (KernelV4, 24), (KernelV6, 64));
            return (device, inside());
        }
        catch
        {
            device.Dispose();
            throw;
        }
    });

    /// <summary>Reads the queues into a dispatcher until <paramref name="done"/> or a bounded wait runs out.</summary>
    private static void Pump(IPacketQueue[] queues, PacketDispatcher dispatcher, Func<bool> done, string what)
    {
        var buffer = new byte[65536];
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException($"no {what} within 10 s (dispatcher drops: {dispatcher.Counters.Dropped}, in: {dispatcher.Counters.PacketsIn})");
            }

            foreach (var queue in queues)
            {
                queue.Wait(queues.Length == 1 ? 100 : 10);
                int length;
                while ((length = queue.TryReceive(buffer)) > 0)
                {
                    dispatcher.OnPacket(buffer.AsSpan(0, length), (uint)clock.ElapsedMilliseconds);
                }
            }
        }
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, 2)]
    public async Task KernelSyn_ArrivesThroughTheQueue_AndParses(bool v6, int queueCount)
    {
        if (Skipped())
        {
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        var family = v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        var (device, client) = OpenInside(ns, queueCount, () => new Socket(family, SocketType.Stream, ProtocolType.Tcp));
        using (device)
        using (client)
        {
            Assert.Equal(Device, device.Name);
            Assert.Equal(queueCount, device.QueueCount);
            var queues = Enumerable.Range(0, queueCount).Select(device.OpenQueue).ToArray();
            var input = new RecordingSegmentInput();
            var dispatcher = new PacketDispatcher([TcpFlowKey.ToUInt128(StackV4), TcpFlowKey.ToUInt128(StackV6)], input, new PacketCounters());

            // Nothing answers, so the connect only ever sends SYNs; disposing the socket ends it.
            _ = client.ConnectAsync(new IPEndPoint(v6 ? StackV6 : StackV4, 8080));
            Pump(queues, dispatcher, () => input.Segments.Count > 0, "SYN from the kernel");

            var (flow, header, payload, _) = input.Segments[0];
            output.WriteLine($"{flow}: MSS {header.Options.Mss}, WS {header.Options.WindowScale}, TS {header.Options.HasTimestamps}, SACK-OK {header.Options.SackPermitted}; drops {dispatcher.Counters.Dropped}");
            Assert.Equal(TcpFlags.Syn, header.Flags);
            Assert.Equal(v6, flow.IsIPv6);
            Assert.Equal(new IPEndPoint(v6 ? StackV6 : StackV4, 8080), flow.ToLocalEndPoint());
            Assert.Equal(v6 ? KernelV6 : KernelV4, flow.ToRemoteEndPoint().Address);
            Assert.Equal(v6 ? 1440 : 1460, header.Options.Mss);
            Assert.True(header.Options.SackPermitted);
            Assert.True(header.Options.HasTimestamps);
            Assert.True(header.Options.HasWindowScale);
            Assert.Empty(payload);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SynWrittenToTheQueue_DrawsTheKernelsSynAck(bool v6)
    {
        if (Skipped())
        {
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        var kernel = v6 ? KernelV6 : KernelV4;
        var (device, listener) = OpenInside(ns, 1, () =>
        {
            var socket = new Socket(kernel.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(kernel, 0));
            socket.Listen();
            return socket;
        });
        using (device)
        using (listener)
        {
            var queue = device.OpenQueue(0);
            var input = new RecordingSegmentInput();
            var counters = new PacketCounters();
            var dispatcher = new PacketDispatcher([TcpFlowKey.ToUInt128(StackV4), TcpFlowKey.ToUInt128(StackV6)], input, counters);
            var writer = new PacketWriter(queue, device.Mtu, counters);

            var flow = TcpFlowKey.From(new IPEndPoint(v6 ? StackV6 : StackV4, 45678), (IPEndPoint)listener.LocalEndPoint!);
            var syn = new TcpHeader { Seq = 0x1234_5678, Flags = TcpFlags.Syn, Window = 65535 };
            syn.Options.Mss = 1400;
            syn.Options.SackPermitted = true;
            syn.Options.HasTimestamps = true;
            syn.Options.TsVal = 1;
            syn.Options.HasWindowScale = true;
            syn.Options.WindowScale = 7;
            writer.Send(flow, syn, default, default);
            Pump([queue], dispatcher, () => input.Segments.Count > 0, "SYN-ACK from the kernel");

            var (replyFlow, reply, _, _) = input.Segments[0];
            output.WriteLine($"{replyFlow}: {reply.Flags}, MSS {reply.Options.Mss}, TS {reply.Options.HasTimestamps} echo {reply.Options.TsEcr}");
            Assert.Equal(flow, replyFlow);
            Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, reply.Flags);
            Assert.Equal(0x1234_5679u, reply.Ack);
            Assert.True(reply.Options.HasTimestamps);
            Assert.Equal(1u, reply.Options.TsEcr);
            Assert.Equal(0, ((TunQueue)queue).SendErrors);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HandshakeAndOddLengthData_WrittenByHand_ReachTheKernelsSocket(bool v6)
    {
        if (Skipped())
        {
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        var kernel = v6 ? KernelV6 : KernelV4;
        var (device, listener) = OpenInside(ns, 1, () =>
        {
            var socket = new Socket(kernel.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(kernel, 0));
            socket.Listen();
            return socket;
        });
        using (device)
        using (listener)
        {
            var queue = device.OpenQueue(0);
            var input = new RecordingSegmentInput();
            var counters = new PacketCounters();
            var dispatcher = new PacketDispatcher([TcpFlowKey.ToUInt128(StackV4), TcpFlowKey.ToUInt128(StackV6)], input, counters);
            var writer = new PacketWriter(queue, device.Mtu, counters);
            var flow = TcpFlowKey.From(new IPEndPoint(v6 ? StackV6 : StackV4, 45679), (IPEndPoint)listener.LocalEndPoint!);

            const uint Iss = 0xFFFF_FFF0; // the data's sequence numbers wrap
            var syn = new TcpHeader { Seq = Iss, Flags = TcpFlags.Syn, Window = 65535 };
            syn.Options.Mss = 1400;
            writer.Send(flow, syn, default, default);
            Pump([queue], dispatcher, () => input.Segments.Count > 0, "SYN-ACK from the kernel");
            var synAck = input.Segments[0].Header;
            Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);

            var ack = new TcpHeader { Seq = unchecked(Iss + 1), Ack = synAck.Seq + 1, Flags = TcpFlags.Ack, Window = 65535 };
            writer.Send(flow, ack, default, default);
            byte[] first = "hello, "u8.ToArray();
            byte[] second = "kernel!!"u8.ToArray();
            var data = ack with { Flags = TcpFlags.Ack | TcpFlags.Psh };
            writer.Send(flow, data, first, second); // 15 bytes: an odd length, split as a send ring's wrap would be

            using var accepted = await listener.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(10));
            var received = new byte[64];
            int total = 0;
            while (total < 15)
            {
                int n = await accepted.ReceiveAsync(received.AsMemory(total)).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                Assert.True(n > 0, "the kernel closed the connection");
                total += n;
            }

            Assert.Equal("hello, kernel!!", System.Text.Encoding.ASCII.GetString(received, 0, total));

            // The kernel acknowledges all 15 bytes.
            Pump([queue], dispatcher, () => input.Segments.Exists(s => s.Header.Ack == unchecked(Iss + 16)), "ACK of the data");
        }
    }

    [Fact]
    public async Task SteadyStateSendAndReceive_AllocateNothing()
    {
        if (Skipped())
        {
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        var (device, _) = OpenInside(ns, 1, () => 0);
        using (device)
        {
            var queue = device.OpenQueue(0);
            var input = new CountingSegmentInput();
            var counters = new PacketCounters();
            var dispatcher = new PacketDispatcher([TcpFlowKey.ToUInt128(StackV4)], input, counters);
            var writer = new PacketWriter(queue, device.Mtu, counters);

            // A SYN to a closed port of the kernel draws a RST: one packet out, one in, per round.
            var flow = TcpFlowKey.From(new IPEndPoint(StackV4, 45678), new IPEndPoint(KernelV4, 9));
            var syn = new TcpHeader { Seq = 1, Flags = TcpFlags.Syn, Window = 65535 };
            var buffer = new byte[2048];
            for (int i = 0; i < 10; i++)
            {
                Round(queue, writer, dispatcher, flow, syn, buffer);
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++)
            {
                Round(queue, writer, dispatcher, flow, syn, buffer);
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            output.WriteLine($"{counters.PacketsOut} out, {input.Count} RSTs in, {counters.Dropped} dropped, {allocated} bytes allocated");
            Assert.True(input.Count >= 150, $"the kernel answered {input.Count} of 210 SYNs");
            Assert.Equal(0, allocated);
        }
    }

    private static void Round(IPacketQueue queue, PacketWriter writer, PacketDispatcher dispatcher, in TcpFlowKey flow, in TcpHeader syn, byte[] buffer)
    {
        writer.Send(flow, syn, default, default);
        for (int tries = 0; tries < 50 && !queue.Wait(100); tries++)
        {
        }

        int length;
        while ((length = queue.TryReceive(buffer)) > 0)
        {
            dispatcher.OnPacket(buffer.AsSpan(0, length), 0);
        }
    }

    [Fact]
    public async Task Wake_EndsAWaitEarly_AndDisposeEndsItToo()
    {
        if (Skipped())
        {
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        var (device, _) = OpenInside(ns, 1, () => 0);
        using (device)
        {
            var queue = device.OpenQueue(0);
            Assert.Throws<InvalidOperationException>(() => device.OpenQueue(0));

            var waiter = Task.Run(() => queue.Wait(30_000));
            await Task.Delay(50);
            queue.Wake();
            Assert.True(await waiter.WaitAsync(TimeSpan.FromSeconds(10)));

            queue.Wake();
            Assert.True(queue.Wait(0));

            // A loop blocked in Wait when the device goes away is released, and late wakes are harmless.
            waiter = Task.Run(() => queue.Wait(30_000));
            await Task.Delay(50);
            device.Dispose();
            await waiter.WaitAsync(TimeSpan.FromSeconds(10));
            queue.Wake();
            Assert.False(queue.Wait(0));
        }
    }

    [Fact]
    public void MissingCloneDevice_IsTunUnavailable_SayingSo()
    {
        var error = Assert.Throws<TunUnavailableException>(() => TunDevice.Open("kktunx", path: "/nonexistent/net/tun"));
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutCapNetAdmin_IsTunUnavailable_SayingRootOrCapNetAdmin()
    {
        if (Skipped())
        {
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();

        // Capabilities are per thread on Linux: this thread drops CAP_NET_ADMIN from its effective set, so
        // TUNSETIFF fails as it would for an unprivileged user (and the rest of the process keeps it).
        var error = ns.RunInside(() =>
        {
            ThreadCapabilities.DropEffective(ThreadCapabilities.CapNetAdmin);
            return Record.Exception(() => TunDevice.Open(Device).Dispose());
        });
        var unavailable = Assert.IsType<TunUnavailableException>(error);
        output.WriteLine(unavailable.Message);
        Assert.Contains("root or CAP_NET_ADMIN", unavailable.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, "root or CAP_NET_ADMIN")]
    [InlineData(13, "root or CAP_NET_ADMIN")]
    [InlineData(2, "missing")]
    [InlineData(19, "missing")]
    public void Errno_MapsToAClearMessage(int errno, string expected)
    {
        var error = TunUnavailableException.FromErrno(errno, "open /dev/net/tun");
        Assert.NotNull(error);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(errno, error.ErrorCode);
        Assert.Null(TunUnavailableException.FromErrno(22, "x"));
    }

    [Fact]
    public void NameTooLong_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => TunDevice.Open("kktun-name-too-long"));
    }
}
