using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Connection;

public class OptionTests
{
    [Fact]
    public void RefusedAcceptResetsThePeer()
    {
        var pair = new ConnectionPair(121);
        pair.ServerOwner.AcceptPassive = false;
        pair.Client.OpenActive(0x1000_0000, pair.Now);
        Assert.True(pair.Link.RunUntil(() => pair.Client.State == TcpState.Closed, 5_000));
        Assert.Equal(TcpCloseReason.Reset, pair.ClientEvents.ClosedReason);
        Assert.Equal(1, pair.ServerOwner.ReleasedCount);
        Assert.Equal(1, pair.ServerOwner.Counters.ResetsSent);
    }

    [Fact]
    public void NagleHoldsSmallSegmentsWhileDataIsInFlight()
    {
        var nagle = new TcpConnectionOptions { NoDelay = false };
        var pair = new ConnectionPair(122, nagle, null);
        pair.Connect();
        pair.Link.Impair(0, delayMs: 20);
        var before = pair.Link.A.Sent;
        for (var i = 0; i < 10; i++)
        {
            pair.Client.Send(new byte[100], pair.Now);
        }

        Assert.Equal(before + 1, pair.Link.A.Sent); // one small segment out, the rest coalesced behind it
        Assert.True(pair.Link.RunUntil(() => pair.Server.ReceivableBytes == 1000, 1_000));
        Assert.Equal(before + 2, pair.Link.A.Sent);

        // NoDelay (the default) sends each write at once.
        var pair2 = new ConnectionPair(123);
        pair2.Connect();
        var before2 = pair2.Link.A.Sent;
        for (var i = 0; i < 10; i++)
        {
            pair2.Client.Send(new byte[100], pair2.Now);
        }

        Assert.Equal(before2 + 10, pair2.Link.A.Sent);
    }

    [Fact]
    public void SmallReceiveBufferIsNeverOverrun()
    {
        // A 4 KiB window (no scaling) against a sender with a large one: flow control alone bounds the bytes held.
        var small = new TcpConnectionOptions { ReceiveBufferSize = 4096 };
        var pair = new ConnectionPair(124, null, small);
        pair.Connect();
        var data = new byte[100_000];
        new Random(124).NextBytes(data);
        var sent = 0;
        var got = new byte[data.Length];
        var received = 0;
        var maxHeld = 0;
        Assert.True(pair.Link.RunUntil(
            () =>
            {
                if (sent < data.Length)
                {
                    sent += pair.Client.Send(data.AsSpan(sent), pair.Now);
                }

                maxHeld = Math.Max(maxHeld, pair.Server.ReceivableBytes);

                // A slow reader: 1000 bytes per step.
                received += pair.Server.Receive(got.AsSpan(received, Math.Min(1000, data.Length - received)), pair.Now);
                return received == data.Length;
            },
            120_000));
        Assert.True(got.AsSpan().SequenceEqual(data));
        Assert.True(maxHeld <= 4096, $"{maxHeld} bytes held");
        Assert.Equal(0, pair.ServerOwner.Counters.DroppedOutOfWindow);
    }

    [Fact]
    public void AfterIdleTheWindowRestartsFromTheInitialWindow()
    {
        var pair = new ConnectionPair(125);
        pair.Connect();
        Assert.True(pair.Transfer(pair.Client, pair.Server, 2_000_000, 125));
        var mss = pair.Client.GetStatistics().Mss - 12;
        Assert.True(pair.Client.GetStatistics().CongestionWindowBytes > 20 * mss);

        pair.Link.Advance(5_000);
        var before = pair.Link.A.Sent;
        pair.Client.Send(new byte[200_000], pair.Now);
        Assert.Equal(before + 10, pair.Link.A.Sent); // RFC 5681 §4.1: ten segments, not the old window
    }
}
