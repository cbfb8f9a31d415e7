using System.Diagnostics;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class SendRateLimitTests
{
    [Fact]
    public async Task SendRateLimit_PacesWhatTheSessionSends_AndEveryByteArrives()
    {
        await using var listener = await DirectListener.BindAsync(k => { k.Crypt = "aes"; k.Key = "k"; k.IoLoopCount = 1; });
        await using var factory = KcpTestHost.Client(k => k.Key = "k").CreateFactory();
        var client = await factory.ConnectAsync(listener.EndPoint);
        await client.Transport.Output.WriteAsync(new byte[] { 1 });
        var server = (await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20)))!;
        var feature = server.Features.Get<IKcpSessionFeature>()!;
        const long Rate = 2 << 20;
        const long Bytes = 3 << 20;
        feature.SendRateLimit = Rate;
        Assert.Equal(Rate, feature.SendRateLimit);

        var clock = Stopwatch.StartNew();
        var send = StreamCheck.WriteAsync(server.Transport.Output, Bytes, seed: 4, CancellationToken.None);
        var receive = StreamCheck.ReadAsync(client.Transport.Input, Bytes + 0, CancellationToken.None);
        var sent = await send.WaitAsync(TimeSpan.FromSeconds(60));
        var received = await receive.WaitAsync(TimeSpan.FromSeconds(60));
        clock.Stop();

        Assert.Equal(sent, received);

        // Only a lower bound: a busy machine can make it slower, never faster than the cap allows
        // (one burst of a tenth of a second's worth, then the rate).
        var floor = (Bytes - (Rate / 10.0)) / Rate;
        Assert.True(clock.Elapsed.TotalSeconds >= floor * 0.95, $"{Bytes} bytes took {clock.Elapsed.TotalSeconds:F2} s, faster than the {Rate} B/s cap allows ({floor:F2} s)");
        await client.DisposeAsync();
        await server.DisposeAsync();
    }
}
