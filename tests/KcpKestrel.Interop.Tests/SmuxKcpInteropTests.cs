using System.Net;
using KcpKestrel.Transport.Kcp;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace KcpKestrel.Interop.Tests;

/// <summary>
/// The real xtaci stack as kcptun's client runs it (kcp-go, snappy when on, smux 1.5.16) against our smux listener
/// in Kestrel: every stream is an echo connection; 16 streams × 1 MiB, SHA-256 checked by the Go client.
/// </summary>
public sealed class SmuxKcpInteropTests
{
    private const string Key = "smux-interop";
    private const int Streams = 16;
    private const int Bytes = 1 << 20;

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public async Task XtaciSmuxOverKcpGo_OurSmuxListener_SixteenStreamsEchoIntact(int version, bool compress)
    {
        ListenOptions? listen = null;
        var host = await KestrelTestHost.StartAsync(web => web
            .UseKestrel(o => o.ListenKcp(IPAddress.Loopback, 0, k =>
            {
                k.Crypt = "aes";
                k.Key = Key;
                k.DataShards = 10;
                k.ParityShards = 3;
                k.Multiplexing = KcpMultiplexing.Smux;
                k.SmuxVersion = version;
                // xtaci/smux's default window, not kcptun's 2 MiB: with 16 streams × 2 MiB allowed in flight against a
                // 4 MiB session buffer, an echo (whose writes wait for the peer's window while its unread input holds the
                // session buffer, so the peer's window updates stay unread behind it) stalls, as xtaci/smux's own would.
                k.StreamBuffer = 65536;
                k.Compression = compress ? KcpCompression.Snappy : KcpCompression.None;
            }, l =>
            {
                listen = l;
                l.UseConnectionHandler<EchoConnectionHandler>();
            }))
            .UseKcp()
            .ConfigureServices(s => s.AddSingleton<EchoConnectionHandler>()));
        try
        {
            var target = ((KcpEndPoint)listen!.EndPoint).IPEndPoint;
            var result = await GoSmuxPeer.RunClientAsync(target, version, Streams, Bytes, GoSmuxPeer.KcpFlags(Key, 10, 3, compress));

            Assert.True(result.Ok, result.Error);
            Assert.Equal((long)Streams * Bytes, result.Bytes);
            var listener = Assert.Single(host.Services.GetServices<IConnectionListenerFactory>().OfType<KcpConnectionListenerFactory>().Single().Listeners.Listeners);
            var smux = listener.Diagnostics.Smux!;
            Assert.Equal(Streams, smux.StreamsAccepted);
            Assert.Equal(1, smux.SessionsOpened);
            Assert.Equal(0, smux.GetErrors().ProtocolErrors);
        }
        finally
        {
            await KestrelTestHost.StopAndDisposeAsync(host, TimeSpan.FromSeconds(5));
        }
    }
}
