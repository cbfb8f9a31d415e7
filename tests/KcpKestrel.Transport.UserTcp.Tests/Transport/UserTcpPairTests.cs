using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.UserTcp.Tests.Transport;

public sealed class UserTcpPairTests
{
    [Fact]
    public async Task ABadEndpointSettingStopsTheStartNamingIt()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => UserTcpPair.StartAsync(listen => listen.Run(_ => Task.CompletedTask), serverOptions: o => o.Mtu = 100));

        Assert.Contains("Mtu = 100", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("1280 to 65535 bytes", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnbindLeavesLiveConnectionsAndDisposeResetsThem()
    {
        var pair = await UserTcpPair.StartAsync(listen => listen.Run(async connection => await TestWaits.ReadToEndAsync(connection.Transport.Input)));
        var connection = await pair.Client.ConnectAsync(pair.ServerEndPoint);
        await connection.Transport.Output.WriteAsync(new byte[] { 1 });

        // Stopping the host unbinds, asks connections to close within its bound, then disposes the listener: the
        // connection the app never ended is reset, and the client sees the reset.
        await KcpKestrel.Tests.Shared.KestrelTestHost.StopAndDisposeAsync(pair.Server, TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAsync<ConnectionResetException>(() => TestWaits.ReadToEndAsync(connection.Transport.Input).WaitAsync(TestWaits.Bound));
        await connection.DisposeAsync();
        await pair.Client.DisposeAsync();
    }
}
