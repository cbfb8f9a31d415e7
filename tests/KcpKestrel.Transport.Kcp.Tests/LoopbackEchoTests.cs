using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class LoopbackEchoTests(ITestOutputHelper output)
{
    /// <summary>One session through a whole Kestrel host, on each UDP I/O path: 1 MiB, and 16 MiB (a large transfer, many window turns).</summary>
    [Theory]
    [InlineData(UdpIoPath.Native, 1 << 20)]
    [InlineData(UdpIoPath.IoUring, 1 << 20)]
    [InlineData(UdpIoPath.Socket, 1 << 20)]
    [InlineData(UdpIoPath.Native, 16 << 20)]
    [InlineData(UdpIoPath.IoUring, 16 << 20)]
    [InlineData(UdpIoPath.Socket, 16 << 20)]
    public async Task Echo_OneClient_RoundTripsBytesIntact(string path, int bytes)
    {
        if (UdpIoPath.Unavailable(path, output))
        {
            return;
        }

        await using var host = await KcpTestHost.StartAsync<EchoConnectionHandler>(k => UdpIoPath.Force(k, path));
        await using var factory = KcpTestHost.Client(k => UdpIoPath.Force(k, path)).CreateFactory();
        Assert.Equal(UdpIoPath.Mode(path), factory.IoMode);

        var connection = await factory.ConnectAsync(host.KcpEndPoint);
        var (sent, received) = await StreamCheck.EchoAsync(connection, bytes, seed: 1, TimeSpan.FromSeconds(60));

        Assert.Equal(sent, received);
        var feature = connection.Features.Get<IKcpSessionFeature>();
        Assert.NotNull(feature);
        Assert.True(feature.GetStatistics().BytesSent >= bytes);
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
