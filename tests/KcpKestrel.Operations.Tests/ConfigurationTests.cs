using KcpKestrel.Operations.Tests.Infrastructure;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Listener;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Operations.Tests;

public sealed class ConfigurationTests
{
    [Fact]
    public async Task NamedEndpoints_BindWithTheirSettings_OverTheDefaults()
    {
        await using var host = await OpsHost.StartConfiguredAsync(new Dictionary<string, string?>
        {
            ["Kcp:Defaults:Crypt"] = "salsa20",
            ["Kcp:Defaults:Key"] = "from-config",
            ["Kcp:Defaults:DataShards"] = "0",
            ["Kcp:Defaults:ParityShards"] = "0",
            ["Kcp:Defaults:IoLoopCount"] = "1",
            ["Kcp:Endpoints:Game:Url"] = "kcp://127.0.0.1:0",
            ["Kcp:Endpoints:Game:Mtu"] = "1200",
            ["Kcp:Endpoints:Game:Mode"] = "Fast3",
            ["Kcp:Endpoints:Game:IdleTimeout"] = "00:00:15",
            ["Kcp:Endpoints:Chat:Url"] = "kcp://localhost:0",
            ["Kcp:Endpoints:Chat:Crypt"] = "none",
            ["Kcp:Endpoints:Chat:MaxSessions"] = "50",
        });

        var transport = host.Services.GetRequiredService<IOptions<KcpTransportOptions>>().Value;
        Assert.Equal("salsa20", transport.Defaults.Crypt);
        Assert.Equal(0, transport.Defaults.DataShards);

        var factory = host.Services.GetServices<IConnectionListenerFactory>().OfType<KcpConnectionListenerFactory>().Single();
        var listeners = factory.Listeners.Listeners.OrderBy(l => l.Options.Mtu).ToArray();
        Assert.Equal(2, listeners.Length);

        var game = listeners[0].Options;
        Assert.Equal(1200, game.Mtu);
        Assert.Equal(KcpMode.Fast3, game.Mode);
        Assert.Equal(TimeSpan.FromSeconds(15), game.IdleTimeout);
        Assert.Equal("salsa20", game.Crypt);
        Assert.Equal("from-config", game.Key);
        Assert.Equal(0, game.ParityShards);

        var chat = listeners[1].Options;
        Assert.Equal(1350, chat.Mtu);
        Assert.Equal("none", chat.Crypt);
        Assert.Equal(50, chat.MaxSessions);
        Assert.All(listeners, l => Assert.NotEqual(0, ((KcpEndPoint)((KcpConnectionListener)l).EndPoint).IPEndPoint.Port));
    }

    [Fact]
    public async Task ConfiguredEndpoint_ServesTheClient()
    {
        await using var host = await OpsHost.StartConfiguredAsync(new Dictionary<string, string?>
        {
            ["Kcp:Endpoints:Game:Url"] = "kcp://127.0.0.1:0",
            ["Kcp:Endpoints:Game:Key"] = OpsHost.Key,
            ["Kcp:Endpoints:Game:IoLoopCount"] = "1",
        });
        var factory = host.Services.GetServices<IConnectionListenerFactory>().OfType<KcpConnectionListenerFactory>().Single();
        var endpoint = (KcpEndPoint)((KcpConnectionListener)Assert.Single(factory.Listeners.Listeners)).EndPoint;

        // The endpoint speaks HTTP/1.1 (Kestrel's default protocols) over KCP.
        await using var client = Client.Create();
        var connection = await client.ConnectAsync(endpoint);
        await connection.Transport.Output.WriteAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray());
        var result = await connection.Transport.Input.ReadAtLeastAsync(12).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        var text = System.Text.Encoding.ASCII.GetString(result.Buffer.FirstSpan);
        Assert.StartsWith("HTTP/1.1 404", text, StringComparison.Ordinal);
        connection.Transport.Input.AdvanceTo(result.Buffer.End);
        await connection.DisposeAsync();
    }

    [Theory]
    [InlineData("Kcp:Endpoints:Game:Mtu", "99999", "Kcp:Endpoints:Game:Mtu = 99999 is not valid; accepted: 100 to 1500 bytes.")]
    [InlineData("Kcp:Endpoints:Game:Url", "udp://0.0.0.0:4000", "Kcp:Endpoints:Game:Url = udp://0.0.0.0:4000 is not valid; accepted: kcp://")]
    [InlineData("Kcp:Endpoints:Game:Crypt", "rot13", "Kcp:Endpoints:Game:Crypt = rot13 is not valid; accepted: ")]
    [InlineData("Kcp:Endpoints:Game:Mtuu", "1200", "Kcp:Endpoints:Game:Mtuu is not a KCP endpoint setting")]
    [InlineData("Kcp:Endpoints:Game:Protocols", "Http9", "Kcp:Endpoints:Game:Protocols = Http9 is not valid")]
    [InlineData("Kcp:Endpoints:Game:Mtu", "big", "'Kcp:Endpoints:Game:Mtu'")]
    [InlineData("Kcp:Defaults:SendWindow", "0", "Kcp:Defaults:SendWindow = 0 is not valid; accepted: 1 to 65535 segments.")]
    [InlineData("Kcp:Mtu", "1200", "Kcp:Mtu is no longer read: KCP settings moved to Kcp:Defaults:Mtu")]
    public async Task BadValue_FailsStartUp_NamingTheKey(string key, string value, string expected)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Kcp:Endpoints:Game:Url"] = "kcp://127.0.0.1:0",
            ["Kcp:Endpoints:Game:Key"] = OpsHost.Key,
            ["Kcp:Endpoints:Game:IoLoopCount"] = "1",
            [key] = value,
        };

        var error = await Assert.ThrowsAnyAsync<Exception>(() => OpsHost.StartConfiguredAsync(configuration));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingKey_NamesTheEndpoint()
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Kcp:Endpoints:Game:Url"] = "kcp://127.0.0.1:0",
        };

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => OpsHost.StartConfiguredAsync(configuration));
        Assert.Contains("Kcp:Endpoints:Game:Key = (empty) is not valid; accepted: a pre-shared secret: crypt 'aes' needs one.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultsWithoutAKey_CodeEndpointsBringOne_AreFine()
    {
        await using var host = await OpsHost.StartEchoAsync();
        Assert.Null(host.Services.GetRequiredService<IOptions<KcpTransportOptions>>().Value.Defaults.Key);
    }
}
