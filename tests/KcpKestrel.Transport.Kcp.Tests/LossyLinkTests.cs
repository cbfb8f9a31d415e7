using System.Net;
using KcpKestrel.Relay;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>Integrity through an in-process relay that loses, delays, reorders, duplicates and corrupts.</summary>
public sealed class LossyLinkTests
{
    // One per cipher family: CFB block cipher, stream cipher, xor table, kcp-go's AEAD, our AEAD, CRC only.
    public static TheoryData<string, int, int> Cases => new()
    {
        { "aes", 0, 0 }, { "aes", 10, 3 },
        { "salsa20", 0, 0 }, { "salsa20", 10, 3 },
        { "xor", 0, 0 }, { "xor", 3, 2 },
        { "aes-128-gcm", 10, 3 },
        { "aes-256-gcm", 0, 0 }, { "chacha20-poly1305", 10, 3 },
        { "none", 0, 0 }, { "none", 10, 3 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Echo_ThroughABadLink_EveryByteIntact(string crypt, int dataShards, int parityShards)
    {
        await using var listener = await DirectListener.BindAsync(k => Configure(k, crypt, dataShards, parityShards));
        await using var link = await RelayedEcho.OpenAsync(
            listener,
            RelayedEcho.BadLink(seed: crypt.Length * 31 + dataShards),
            k => Configure(k, crypt, dataShards, parityShards));
        var (relay, client, server) = (link.Relay, link.Client, link.Server);

        var (sent, received) = await StreamCheck.EchoAsync(client, 2 << 20, seed: 3, TimeSpan.FromSeconds(90));

        Assert.Equal(sent, received);
        Assert.True(relay.Upstream.Dropped + relay.Downstream.Dropped > 0, "the relay dropped nothing: the link was not lossy");
        if (dataShards > 0)
        {
            Assert.True(client.Features.Get<IKcpSessionFeature>()!.GetStatistics().FecRecovered
                + server.Features.Get<IKcpSessionFeature>()!.GetStatistics().FecRecovered > 0, "FEC recovered nothing at 5% loss");
        }
    }

    [Fact]
    public async Task PeerThatVanishes_SessionEndsWithinItsTimeout_AndTheAppSeesIt()
    {
        await using var listener = await DirectListener.BindAsync(k =>
        {
            Configure(k, "aes", 0, 0);
            k.IdleTimeout = TimeSpan.FromSeconds(2);
        });
        await using var relay = new LossyUdpRelay(new IPEndPoint(IPAddress.Loopback, 0), ((KcpEndPoint)listener.EndPoint).IPEndPoint, new LinkImpairment());
        relay.Start();
        await using var factory = KcpTestHost.Client(k =>
        {
            Configure(k, "aes", 0, 0);
            k.IdleTimeout = TimeSpan.FromSeconds(2);
            k.DeadLink = 6;
        }).CreateFactory();
        var client = await factory.ConnectAsync(new KcpEndPoint(relay.EndPoint));
        await client.Transport.Output.WriteAsync(new byte[] { 1 });
        var server = (await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20)))!;

        relay.Forwarding = false;
        await client.Transport.Output.WriteAsync(new byte[1000]);

        var closed = new TaskCompletionSource();
        using var a = server.ConnectionClosed.Register(() => closed.TrySetResult());
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(KcpCloseReason.IdleTimeout, server.Features.Get<IKcpSessionFeature>()!.CloseReason);

        var clientClosed = new TaskCompletionSource();
        using var b = client.ConnectionClosed.Register(() => clientClosed.TrySetResult());
        await clientClosed.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Contains(client.Features.Get<IKcpSessionFeature>()!.CloseReason, new[] { KcpCloseReason.DeadLink, KcpCloseReason.IdleTimeout });
        Assert.Equal(0, listener.SessionCount);
        await server.DisposeAsync();
        await client.DisposeAsync();
    }

    private static void Configure(KcpOptions k, string crypt, int dataShards, int parityShards)
    {
        k.Crypt = crypt;
        k.Key = "lossy";
        k.DataShards = dataShards;
        k.ParityShards = parityShards;
        k.Mode = KcpMode.Fast3;
        k.IoLoopCount = 1;
        k.SendWindow = k.ReceiveWindow = 256;
    }
}
