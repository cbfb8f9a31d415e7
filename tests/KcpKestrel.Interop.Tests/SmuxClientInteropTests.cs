using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;

namespace KcpKestrel.Interop.Tests;

/// <summary>
/// Our smux client (<see cref="KcpConnectionFactory"/> with smux: streams on a pooled session) against the real xtaci stack as
/// kcptun's server runs it (kcp-go, snappy when on, smux 1.5.16) echoing every stream: 16 streams × 1 MiB, SHA-256 checked.
/// </summary>
public sealed class SmuxClientInteropTests
{
    private const string Key = "smux-client-interop";
    private const int Streams = 16;
    private const int Bytes = 1 << 20;

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public async Task OurSmuxClient_XtaciSmuxOverKcpGo_SixteenStreamsOnOneSessionIntact(int version, bool compress)
    {
        await using var server = await GoSmuxPeer.StartServerAsync(version, GoSmuxPeer.KcpFlags(Key, 10, 3, compress));
        await using var factory = new KcpConnectionFactory(new KcpClientOptions
        {
            Kcp =
            {
                Crypt = "aes",
                Key = Key,
                DataShards = 10,
                ParityShards = 3,
                Mode = KcpMode.Fast3,
                Multiplexing = KcpMultiplexing.Smux,
                SmuxVersion = version,
                // xtaci/smux's default window, as the Go side uses (see SmuxKcpInteropTests for why echoes need it).
                StreamBuffer = 65536,
                Compression = compress ? KcpCompression.Snappy : KcpCompression.None,
            },
        });

        var echoes = Enumerable.Range(0, Streams).Select(async seed =>
        {
            await using var connection = await factory.ConnectAsync(server.EndPoint);
            var (sent, received) = await EchoCheck.RunAsync(connection, Bytes, seed, TimeSpan.FromSeconds(60));
            Assert.Equal(sent, received);
        });
        await Task.WhenAll(echoes);

        Assert.Equal(1, factory.SessionsDialed);
    }
}
