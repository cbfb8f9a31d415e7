using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Client;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Xunit.Abstractions;
using static KcpKestrel.Tests.Shared.TestWaits;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>
/// The UDP I/O paths (io_uring, epoll "native", and the portable Socket path, forced through the options) end to end
/// where they differ: each against another, dialing nobody (an ICMP error on the receive), over a bad link, and under
/// garbage (empty and oversize datagrams). Echo under load and close/abort run on every path in
/// <see cref="ConcurrentEchoTests"/> and <see cref="CloseAndAbortTests"/>.
/// </summary>
public sealed class UdpIoPathEndToEndTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData("socket", "native", "aes", 0, 0)]
    [InlineData("native", "socket", "aes", 0, 0)]
    [InlineData("socket", "native", "salsa20", 10, 3)]
    [InlineData("native", "socket", "chacha20-poly1305", 10, 3)]
    [InlineData("iouring", "native", "aes", 0, 0)]
    [InlineData("socket", "iouring", "aes-128-gcm", 10, 3)]
    public async Task DifferentPaths_TalkToEachOther(string server, string client, string crypt, int dataShards, int parityShards)
    {
        if (UdpIoPath.Unavailable(server, output) || UdpIoPath.Unavailable(client, output))
        {
            return;
        }

        await using var listener = await DirectListener.BindAsync(k => Configure(k, server, crypt, dataShards, parityShards));
        await using var factory = KcpTestHost.Client(k => Configure(k, client, crypt, dataShards, parityShards)).CreateFactory();
        Assert.Equal(UdpIoPath.Mode(server), listener.IoMode);
        Assert.Equal(UdpIoPath.Mode(client), factory.IoMode);

        var connection = await factory.ConnectAsync(listener.EndPoint);
        var accepted = (await listener.AcceptAsync().AsTask().WaitAsync(Timeout))!;
        var echo = Task.Run(() => accepted.Transport.Input.CopyToAsync(accepted.Transport.Output));

        var (sent, received) = await StreamCheck.EchoAsync(connection, 8 << 20, seed: 11, TimeSpan.FromMinutes(2));

        Assert.Equal(sent, received);
        await connection.DisposeAsync();
        await echo.WaitAsync(Timeout);
        await accepted.DisposeAsync();
    }

    [Theory]
    [InlineData(UdpIoPath.Socket)]
    [InlineData(UdpIoPath.Native)]
    [InlineData(UdpIoPath.IoUring)]
    public async Task DialToAPortWithNobody_TimesOut_AndTheLoopStaysUsable(string path)
    {
        if (UdpIoPath.Unavailable(path, output))
        {
            return;
        }

        // The connected client socket gets ICMP port-unreachable back: an error to skip, not data.
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var options = KcpTestHost.Client(k => Configure(k, path, "aes", 0, 0)).Build();
        options.ConnectTimeout = TimeSpan.FromMilliseconds(600);
        options.ConnectRetries = 0;
        await using var factory = new Client.KcpConnectionFactory(options);
        await Assert.ThrowsAsync<Polly.Timeout.TimeoutRejectedException>(async () => await factory.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)));

        await using var listener = await DirectListener.BindAsync(k => Configure(k, path, "aes", 0, 0));
        var client = await factory.ConnectAsync(listener.EndPoint);
        await client.Transport.Output.WriteAsync(new byte[] { 5 });
        var server = (await listener.AcceptAsync().AsTask().WaitAsync(Timeout))!;
        var read = await server.Transport.Input.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(5, read.Buffer.FirstSpan[0]);
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Theory]
    [InlineData(UdpIoPath.Socket, "aes", 10, 3)]
    [InlineData(UdpIoPath.Socket, "none", 0, 0)]
    [InlineData(UdpIoPath.Native, "aes", 10, 3)]
    [InlineData(UdpIoPath.IoUring, "aes", 10, 3)]
    public async Task Echo_ThroughALossyRelay_EveryByteIntact(string path, string crypt, int dataShards, int parityShards)
    {
        if (UdpIoPath.Unavailable(path, output))
        {
            return;
        }

        await using var listener = await DirectListener.BindAsync(k =>
        {
            Configure(k, path, crypt, dataShards, parityShards);
            k.Mode = KcpMode.Fast3;
        });
        await using var link = await RelayedEcho.OpenAsync(
            listener,
            RelayedEcho.BadLink(seed: 17 + dataShards),
            k =>
            {
                Configure(k, path, crypt, dataShards, parityShards);
                k.Mode = KcpMode.Fast3;
            });

        var (sent, received) = await StreamCheck.EchoAsync(link.Client, 2 << 20, seed: 5, TimeSpan.FromSeconds(90));

        Assert.Equal(sent, received);
        Assert.True(link.Relay.Upstream.Dropped + link.Relay.Downstream.Dropped > 0, "the relay dropped nothing: the link was not lossy");
    }

    [Theory]
    [InlineData(UdpIoPath.Socket)]
    [InlineData(UdpIoPath.Native)]
    [InlineData(UdpIoPath.IoUring)]
    public async Task RandomEmptyAndOversizeDatagrams_AreDroppedAndCounted_AndServiceContinues(string path)
    {
        if (UdpIoPath.Unavailable(path, output))
        {
            return;
        }

        await using var listener = await DirectListener.BindAsync(k => Configure(k, path, "aes", 0, 0));
        var target = ((KcpEndPoint)listener.EndPoint).IPEndPoint;
        using var attacker = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var random = new Random(42);
        var buffer = new byte[3000];
        const int Random = 4000;
        const int Empty = 50;
        const int Oversize = 50;
        var sent = 0;
        for (var i = 0; i < Random + Empty + Oversize; i++)
        {
            // Oversize: more than the 2048-byte slot of a 1350-byte MTU; empty: nothing at all.
            var length = i < Random ? random.Next(1, 1500) : i < Random + Empty ? 0 : buffer.Length;
            random.NextBytes(buffer.AsSpan(0, length));
            attacker.SendTo(buffer.AsSpan(0, length), SocketFlags.None, target);
            sent++;

            // Paced so the server's socket buffer never overflows: every datagram must be counted. 32 in flight
            // (up to ~190 KB of kernel memory for the oversize ones) came near the default rmem_max of 208 KB
            // and lost a datagram on a busy machine; 8 stay far below it.
            if (sent % 8 == 0)
            {
                await WaitUntilAsync(() => listener.Counters.DatagramsReceived >= sent);
            }
        }

        await WaitUntilAsync(() => listener.Counters.DatagramsReceived >= sent);
        var counters = listener.Counters;
        Assert.Equal(sent, counters.DatagramsReceived);
        Assert.Equal(Oversize, counters.DroppedOversize);
        Assert.Equal(Random + Empty, counters.DroppedCipher);
        Assert.Equal(0, listener.SessionCount);

        // A real client still gets served.
        await using var factory = KcpTestHost.Client(k => Configure(k, path, "aes", 0, 0)).CreateFactory();
        var client = await factory.ConnectAsync(listener.EndPoint);
        await client.Transport.Output.WriteAsync(new byte[] { 9 });
        var server = (await listener.AcceptAsync().AsTask().WaitAsync(Timeout))!;
        var read = await server.Transport.Input.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(9, read.Buffer.FirstSpan[0]);
        Assert.Equal(1, listener.SessionCount);
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    private static void Configure(KcpOptions k, string path, string crypt, int dataShards, int parityShards)
    {
        k.Crypt = crypt;
        k.Key = "fallback";
        k.DataShards = dataShards;
        k.ParityShards = parityShards;
        k.IoLoopCount = 1;
        k.SendWindow = k.ReceiveWindow = 256;
        UdpIoPath.Force(k, path);
    }
}
