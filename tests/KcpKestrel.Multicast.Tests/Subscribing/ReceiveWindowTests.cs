using KcpKestrel.Multicast.Subscribing;

namespace KcpKestrel.Multicast.Tests.Subscribing;

public sealed class ReceiveWindowTests
{
    private const int Size = 1400;
    private const long Page = 256L * Size;

    [Fact]
    public void NoLoss_AllocatesNothing()
    {
        var window = new ReceiveWindow(65536, Size);
        for (ulong sequence = 1; sequence < 100_000; sequence++)
        {
            window.Delivered(sequence);
        }

        Assert.Equal(0, window.AllocatedBytes);
    }

    [Fact]
    public void ShallowGapsAllAlongTheRing_UseAPageOrTwoNotTheWholeRing()
    {
        var window = new ReceiveWindow(65536, Size);
        var packet = new byte[100];

        // Every 100th packet is late by one: the ring's position sweeps 300,000 sequences (4.5 laps).
        for (ulong sequence = 1; sequence < 300_000; sequence++)
        {
            if (sequence % 100 == 0)
            {
                packet[0] = (byte)sequence;
                window.Store(sequence + 1, packet);
                window.Delivered(sequence);
                Assert.True(window.TryGet(sequence + 1, out var stored));
                Assert.Equal((byte)sequence, stored[0]);
                window.Delivered(++sequence);
            }
            else
            {
                window.Delivered(sequence);
            }
        }

        Assert.InRange(window.AllocatedBytes, Page, 2 * Page);
    }

    [Fact]
    public void DeepGap_GrowsToItsDepthThenReusesThePages()
    {
        var window = new ReceiveWindow(4096, Size);
        var packet = new byte[Size];
        for (var lap = 0UL; lap < 3; lap++)
        {
            // Packet 1 of the lap is lost; 2..3000 wait for it, then all are delivered.
            var first = (lap * 3000) + 1;
            for (var sequence = first + 1; sequence < first + 3000; sequence++)
            {
                window.Store(sequence, packet);
            }

            for (var sequence = first; sequence < first + 3000; sequence++)
            {
                Assert.Equal(sequence != first, window.TryGet(sequence, out _));
                window.Delivered(sequence);
            }
        }

        // 3000 slots touch at most 13 pages at once; the ring has 16.
        Assert.InRange(window.AllocatedBytes, 12 * Page, 13 * Page);
    }
}
