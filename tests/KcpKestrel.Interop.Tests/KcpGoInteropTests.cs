using System.Net;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KcpKestrel.Interop.Tests;

/// <summary>Our server with kcp-go's client, and our client with kcp-go's server: 16 MiB echo, SHA-256 checked.</summary>
public sealed class KcpGoInteropTests
{
    private const string Key = "interop-secret";
    private const long Bytes = 16 << 20;

    public static TheoryData<string, int, int> Cases => InteropMatrix.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task OurServer_KcpGoClient_Echo(string crypt, int dataShards, int parityShards)
    {
        ListenOptions? listen = null;
        var host = await KestrelTestHost.StartAsync(web => web
            .UseKestrel(o => o.ListenKcp(IPAddress.Loopback, 0, k => Configure(k, crypt, dataShards, parityShards), l =>
            {
                listen = l;
                l.UseConnectionHandler<EchoConnectionHandler>();
            }))
            .UseKcp()
            .ConfigureServices(s => s.AddSingleton<EchoConnectionHandler>()));
        try
        {
            var target = ((KcpEndPoint)listen!.EndPoint).IPEndPoint;
            var result = await GoPeer.RunClientAsync(target, "echo", Bytes, GoPeer.Flags(crypt, Key, dataShards, parityShards), TimeSpan.FromSeconds(90));
            Assert.True(result.Ok, $"kcp-go client against our server: {result}");
            Assert.Equal(Bytes, result.Bytes);
        }
        finally
        {
            await KestrelTestHost.StopAndDisposeAsync(host, TimeSpan.FromSeconds(5));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task OurClient_KcpGoServer_Echo(string crypt, int dataShards, int parityShards)
    {
        await using var server = await GoPeer.StartServerAsync("echo", GoPeer.Flags(crypt, Key, dataShards, parityShards));
        var options = new KcpClientOptions { ConnectTimeout = TimeSpan.FromSeconds(3) };
        Configure(options.Kcp, crypt, dataShards, parityShards);
        await using var factory = new KcpConnectionFactory(options);

        var connection = await factory.ConnectAsync(new KcpEndPoint(server.EndPoint));
        try
        {
            var (sent, received) = await EchoCheck.RunAsync(connection, Bytes, seed: 7, TimeSpan.FromSeconds(90));
            Assert.Equal(sent, received);
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(KcpCongestionControl.Kcp, false)]
    [InlineData(KcpCongestionControl.Bbr, false)]
    [InlineData(KcpCongestionControl.Kcp, true)]
    public async Task OurClient_KcpGoServer_EchoEitherCongestionControlAndTailLossProbe(KcpCongestionControl congestionControl, bool tailLossProbe)
    {
        // Pacing changes when segments leave, never what they carry, and the tail-loss probe repeats ordinary
        // segments: kcp-go reads all of them as it reads any segment or duplicate.
        await using var server = await GoPeer.StartServerAsync("echo", GoPeer.Flags("aes", Key, 10, 3));
        var options = new KcpClientOptions { ConnectTimeout = TimeSpan.FromSeconds(3) };
        Configure(options.Kcp, "aes", 10, 3);
        options.Kcp.CongestionControl = congestionControl;
        options.Kcp.TailLossProbe = tailLossProbe;
        await using var factory = new KcpConnectionFactory(options);

        var connection = await factory.ConnectAsync(new KcpEndPoint(server.EndPoint));
        try
        {
            var (sent, received) = await EchoCheck.RunAsync(connection, Bytes, seed: 11, TimeSpan.FromSeconds(90));
            Assert.Equal(sent, received);
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    private static void Configure(KcpOptions k, string crypt, int dataShards, int parityShards)
    {
        k.Crypt = crypt;
        k.Key = Key;
        k.DataShards = dataShards;
        k.ParityShards = parityShards;
        k.Mode = KcpMode.Fast3;
        k.IoLoopCount = 1;
    }
}
