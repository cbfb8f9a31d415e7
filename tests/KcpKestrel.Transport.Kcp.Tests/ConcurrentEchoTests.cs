using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class ConcurrentEchoTests
{
    [Theory]
    [InlineData(UdpIoPath.Native, 100, 16 << 20, "aes", 0, 0)]
    [InlineData(UdpIoPath.Native, 20, 2 << 20, "aes-128-gcm", 10, 3)]
    [InlineData(UdpIoPath.IoUring, 100, 4 << 20, "aes", 0, 0)]
    [InlineData(UdpIoPath.IoUring, 20, 2 << 20, "aes-128-gcm", 10, 3)]
    [InlineData(UdpIoPath.Socket, 64, 4 << 20, "aes", 0, 0)]
    [InlineData(UdpIoPath.Socket, 16, 2 << 20, "aes-128-gcm", 10, 3)]
    public async Task Echo_ManyConcurrentClients_EveryByteIntact(string ioPath, int clients, int bytesEach, string crypt, int dataShards, int parityShards)
    {
        // 100 sessions share two server sockets: windows of 128 segments (not 1024) keep the
        // total in flight within what loopback socket buffers hold, as one would size them.
        await using var host = await KcpTestHost.StartAsync<EchoConnectionHandler>(k => Configure(k, ioPath, crypt, dataShards, parityShards));
        await using var factory = KcpTestHost.Client(k => Configure(k, ioPath, crypt, dataShards, parityShards)).CreateFactory();
        Assert.Equal(UdpIoPath.Mode(ioPath), factory.IoMode);
        var listener = Assert.Single(host.Services.GetServices<IConnectionListenerFactory>().OfType<KcpConnectionListenerFactory>().Single().Listeners.Listeners);
        Assert.Equal(UdpIoPath.Name(ioPath), listener.UdpIoPath);

        var runs = new Task<(byte[], byte[])>[clients];
        for (var i = 0; i < clients; i++)
        {
            var seed = i;
            runs[i] = Task.Run(async () =>
            {
                var connection = await factory.ConnectAsync(host.KcpEndPoint);
                try
                {
                    return await StreamCheck.EchoAsync(connection, bytesEach, seed, TimeSpan.FromMinutes(4));
                }
                finally
                {
                    await connection.DisposeAsync();
                }
            });
        }

        var results = await Task.WhenAll(runs);
        foreach (var (sent, received) in results)
        {
            Assert.Equal(sent, received);
        }

        Assert.Equal(clients, listener.Counters.SessionsAccepted);
    }

    private static void Configure(KcpOptions k, string ioPath, string crypt, int dataShards, int parityShards)
    {
        k.SendWindow = k.ReceiveWindow = 128;
        k.Crypt = crypt;
        k.DataShards = dataShards;
        k.ParityShards = parityShards;
        UdpIoPath.Force(k, ioPath);
    }
}
