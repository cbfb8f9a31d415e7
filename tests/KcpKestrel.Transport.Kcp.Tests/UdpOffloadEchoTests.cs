using System.Net;
using System.Net.Sockets;
using KcpKestrel.Relay;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Native;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>Whole sessions with UDP GSO/GRO on and off: the same bytes either way, and the counters show which path ran.</summary>
public sealed class UdpOffloadEchoTests(ITestOutputHelper output)
{
    public static TheoryData<string, bool, string, int, int> BulkCases => new()
    {
        { UdpIoPath.Native, true, "none", 0, 0 }, { UdpIoPath.Native, false, "none", 0, 0 },
        { UdpIoPath.Native, true, "aes", 10, 3 }, { UdpIoPath.Native, false, "aes", 10, 3 },
        { UdpIoPath.Native, true, "aes-256-gcm", 0, 0 },
        { UdpIoPath.IoUring, true, "none", 0, 0 }, { UdpIoPath.IoUring, false, "none", 0, 0 },
        { UdpIoPath.IoUring, true, "aes", 10, 3 }, { UdpIoPath.IoUring, false, "aes", 10, 3 },
    };

    public static TheoryData<string, bool, string, int, int> LossyCases => new()
    {
        { UdpIoPath.Native, true, "aes", 10, 3 }, { UdpIoPath.Native, false, "aes", 10, 3 },
        { UdpIoPath.Native, true, "salsa20", 0, 0 }, { UdpIoPath.Native, false, "salsa20", 0, 0 },
        { UdpIoPath.IoUring, true, "aes", 10, 3 }, { UdpIoPath.IoUring, false, "salsa20", 0, 0 },
    };

    [Theory]
    [MemberData(nameof(BulkCases))]
    public async Task BulkEcho_WithAndWithoutOffload_BytesIntact_AndGsoUsedWhenOn(string ioPath, bool offload, string crypt, int dataShards, int parityShards)
    {
        await using var listener = await DirectListener.BindAsync(k => Configure(k, ioPath, offload, crypt, dataShards, parityShards));
        await using var factory = KcpTestHost.Client(k => Configure(k, ioPath, offload, crypt, dataShards, parityShards)).CreateFactory();
        var client = await factory.ConnectAsync(listener.EndPoint);
        var server = (await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20)))!;
        var echo = Task.Run(() => server.Transport.Input.CopyToAsync(server.Transport.Output));

        var (sent, received) = await StreamCheck.EchoAsync(client, 4 << 20, seed: 21, TimeSpan.FromSeconds(60));

        Assert.Equal(sent, received);
        var c = listener.Counters;
        output.WriteLine($"{ioPath} ({listener.UdpIoPath}) offload {offload} {crypt} {dataShards}/{parityShards}: server sent {c.DatagramsSent} datagrams in {c.SendCalls} sendmmsg, " +
            $"{c.GsoMessagesSent} GSO messages ({c.GsoSegmentsSent} segments); received {c.DatagramsReceived} in {c.ReceiveCalls} recvmmsg, " +
            $"{c.GroReceives} GRO buffers ({c.GroSegmentsReceived} segments); GSO disabled {c.GsoDisabled}");
        Assert.Equal(0, c.GsoDisabled);
        if (offload && KernelHas(LinuxNative.UDP_SEGMENT))
        {
            // The echo sends back full-mtu runs: they must have left as GSO messages of several datagrams.
            Assert.True(c.GsoMessagesSent > 0, "no GSO message was sent");
            Assert.True(c.GsoSegmentsSent >= 2 * c.GsoMessagesSent);
            if (KernelHas(LinuxNative.UDP_GRO))
            {
                Assert.True(c.GroReceives > 0, "the client's GSO sends never reached the server coalesced");
            }
        }
        else if (!offload)
        {
            Assert.Equal(0, c.GsoMessagesSent);
            Assert.Equal(0, c.GroReceives);
        }

        await client.DisposeAsync();
        await echo.WaitAsync(TimeSpan.FromSeconds(20));
        await server.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(LossyCases))]
    public async Task EchoThroughALossyRelay_WithAndWithoutOffload_EveryByteIntact(string ioPath, bool offload, string crypt, int dataShards, int parityShards)
    {
        await using var listener = await DirectListener.BindAsync(k => Configure(k, ioPath, offload, crypt, dataShards, parityShards));
        await using var relay = new LossyUdpRelay(new IPEndPoint(IPAddress.Loopback, 0), ((KcpEndPoint)listener.EndPoint).IPEndPoint, new LinkImpairment
        {
            Loss = 0.05,
            Reorder = 0.02,
            Duplicate = 0.01,
            Corrupt = 0.001,
            Delay = TimeSpan.FromMilliseconds(2),
            Jitter = TimeSpan.FromMilliseconds(3),
            Seed = 77 + dataShards,
        });
        relay.Start();
        await using var factory = KcpTestHost.Client(k => Configure(k, ioPath, offload, crypt, dataShards, parityShards)).CreateFactory();
        var client = await factory.ConnectAsync(new KcpEndPoint(relay.EndPoint));
        var server = (await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20)))!;
        var echo = Task.Run(() => server.Transport.Input.CopyToAsync(server.Transport.Output));

        var (sent, received) = await StreamCheck.EchoAsync(client, 2 << 20, seed: 5, TimeSpan.FromSeconds(90));

        Assert.Equal(sent, received);
        Assert.True(relay.Upstream.Dropped + relay.Downstream.Dropped > 0, "the relay dropped nothing: the link was not lossy");
        var c = listener.Counters;
        Assert.Equal(0, c.GsoDisabled);
        if (offload && KernelHas(LinuxNative.UDP_SEGMENT))
        {
            // The relay reads with a plain socket: the kernel split every GSO message for it.
            Assert.True(c.GsoMessagesSent > 0, "no GSO message was sent");
        }
        else if (!offload)
        {
            Assert.Equal(0, c.GsoMessagesSent);
        }

        await client.DisposeAsync();
        await echo.WaitAsync(TimeSpan.FromSeconds(20));
        await server.DisposeAsync();
    }

    private static bool KernelHas(int option)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        return option == LinuxNative.UDP_SEGMENT ? UdpOffload.TryEnableGso(socket, true) : UdpOffload.TryEnableGro(socket, true);
    }

    private static void Configure(KcpOptions k, string ioPath, bool offload, string crypt, int dataShards, int parityShards)
    {
        k.Crypt = crypt;
        k.Key = "offload";
        k.DataShards = dataShards;
        k.ParityShards = parityShards;
        k.Mode = KcpMode.Fast3;
        k.IoLoopCount = 1;
        // Offload exists on the native paths only (epoll, io_uring), whatever KCPKESTREL_UDP_IO says.
        k.IoOverrides = new() { Gso = offload, Gro = offload };
        UdpIoPath.Force(k, ioPath);
    }
}
