using System.Net;
using KcpKestrel.Relay;
using KcpKestrel.Transport.Kcp.Listener;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>
/// Whole sessions with <see cref="KcpCongestionControl.Bbr"/> at both ends: the pacer releases segments on the
/// loop's timer ticks, and every byte still arrives, on a clean loopback and through a lossy, reordering relay.
/// </summary>
public sealed class PacedEchoTests
{
    [Theory]
    [InlineData(UdpIoPath.Native, true, "none", 0, 0)]
    [InlineData(UdpIoPath.Native, true, "aes", 10, 3)]
    [InlineData(UdpIoPath.Socket, false, "salsa20", 0, 0)]
    public async Task Echo_PacedDirect_EveryByteIntact(string ioPath, bool offload, string crypt, int dataShards, int parityShards)
    {
        await using var listener = await DirectListener.BindAsync(k => Configure(k, ioPath, offload, crypt, dataShards, parityShards));
        await EchoAsync(listener, listener.EndPoint, ioPath, offload, crypt, dataShards, parityShards, 8 << 20);
    }

    [Theory]
    [InlineData(UdpIoPath.Native, true, "aes", 10, 3)]
    [InlineData(UdpIoPath.Native, false, "salsa20", 0, 0)]
    public async Task Echo_PacedThroughALossyRelay_EveryByteIntact(string ioPath, bool offload, string crypt, int dataShards, int parityShards)
    {
        await using var listener = await DirectListener.BindAsync(k => Configure(k, ioPath, offload, crypt, dataShards, parityShards));
        await using var relay = new LossyUdpRelay(new IPEndPoint(IPAddress.Loopback, 0), ((KcpEndPoint)listener.EndPoint).IPEndPoint, new LinkImpairment
        {
            Loss = 0.05,
            Reorder = 0.02,
            Duplicate = 0.01,
            Delay = TimeSpan.FromMilliseconds(2),
            Jitter = TimeSpan.FromMilliseconds(3),
            Seed = 91 + dataShards,
        });
        relay.Start();
        await EchoAsync(listener, new KcpEndPoint(relay.EndPoint), ioPath, offload, crypt, dataShards, parityShards, 2 << 20);
        Assert.True(relay.Upstream.Dropped + relay.Downstream.Dropped > 0, "the relay dropped nothing: the link was not lossy");
    }

    private static async Task EchoAsync(KcpConnectionListener listener, System.Net.EndPoint target, string ioPath, bool offload, string crypt, int dataShards, int parityShards, int bytes)
    {
        await using var factory = KcpTestHost.Client(k => Configure(k, ioPath, offload, crypt, dataShards, parityShards)).CreateFactory();
        var client = await factory.ConnectAsync(target);
        var server = (await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20)))!;
        var echo = Task.Run(() => server.Transport.Input.CopyToAsync(server.Transport.Output));

        var (sent, received) = await StreamCheck.EchoAsync(client, bytes, seed: 9, TimeSpan.FromSeconds(90));

        Assert.Equal(sent, received);
        await client.DisposeAsync();
        await echo.WaitAsync(TimeSpan.FromSeconds(20));
        await server.DisposeAsync();
    }

    private static void Configure(KcpOptions k, string ioPath, bool offload, string crypt, int dataShards, int parityShards)
    {
        k.Crypt = crypt;
        k.Key = "paced";
        k.DataShards = dataShards;
        k.ParityShards = parityShards;
        k.Mode = KcpMode.Fast3;
        k.IoLoopCount = 1;
        k.CongestionControl = KcpCongestionControl.Bbr;
        k.IoOverrides = new() { Gso = offload, Gro = offload };
        UdpIoPath.Force(k, ioPath);
    }
}
