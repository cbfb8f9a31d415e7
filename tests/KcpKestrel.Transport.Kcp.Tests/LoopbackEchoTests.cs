using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class LoopbackEchoTests
{
    [Fact]
    public async Task Echo_OneClient_RoundTripsBytesIntact()
    {
        await using var host = await KcpTestHost.StartAsync<EchoConnectionHandler>();
        await using var factory = KcpTestHost.Client().CreateFactory();

        var connection = await factory.ConnectAsync(host.KcpEndPoint);
        var (sent, received) = await StreamCheck.EchoAsync(connection, 1 << 20, seed: 1, TimeSpan.FromSeconds(30));

        Assert.Equal(sent, received);
        var feature = connection.Features.Get<IKcpSessionFeature>();
        Assert.NotNull(feature);
        Assert.True(feature.GetStatistics().BytesSent >= 1 << 20);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task TcpEndpoint_InTheSameHost_StillServedByKestrelsSocketsTransport()
    {
        await using var host = await KcpTestHost.StartAsync<EchoConnectionHandler>();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host.TcpEndPoint);
        var stream = tcp.GetStream();
        var payload = "hello over tcp"u8.ToArray();
        await stream.WriteAsync(payload);
        var back = new byte[payload.Length];
        await stream.ReadExactlyAsync(back).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(payload, back);
    }
}
