using KcpKestrel.Transport.Tcp.IoUring;

namespace KcpKestrel.Transport.Tcp.Tests;

/// <summary>The pure choices behind the architectures and options: which worker, which CPU, which BPF program.</summary>
public sealed class IoUringPlacementTests
{
    [Theory]
    [InlineData(new[] { 0, 0, 0 }, 0, 1)]
    [InlineData(new[] { 0, 0, 0 }, 2, 0)]
    [InlineData(new[] { 3, 1, 1 }, 0, 1)]
    [InlineData(new[] { 3, 1, 1 }, 1, 2)]
    [InlineData(new[] { 1, 2, 0 }, 2, 2)]
    public void Pick_Loads_FewestLiveTiesRoundRobin(int[] loads, int after, int expected) =>
        Assert.Equal(expected, IoUringTcpAcceptor.Pick(loads, after));

    [Theory]
    [InlineData(0, 2, new[] { 0, 1 }, true, 0)]
    [InlineData(1, 2, new[] { 0, 1 }, true, 1)]
    [InlineData(0, 2, new[] { 1, 2 }, true, 2)]
    [InlineData(1, 2, new[] { 1, 2 }, true, 1)]
    [InlineData(0, 2, new[] { 1, 2 }, false, 1)]
    [InlineData(2, 3, new[] { 4, 6 }, true, 4)]
    [InlineData(2, 3, new[] { 4, 6 }, false, 4)]
    [InlineData(0, 1, new int[0], false, -1)]
    public void CpuForWorker_AllowedSet_MatchesTheSteeredSocket(int worker, int workers, int[] allowed, bool steered, int expected) =>
        Assert.Equal(expected, IoUringTcpAffinity.CpuForWorker(worker, workers, allowed, steered));

    [Fact]
    public void CpusFromMask_Bits_AreTheCpus()
    {
        Assert.Equal([0, 2, 9], IoUringTcpAffinity.CpusFromMask([0b101, 0b10]));
        Assert.Empty(IoUringTcpAffinity.CpusFromMask([0, 0]));
    }

    [Fact]
    public void ReuseportProgram_Workers_LoadsCpuModWorkersReturnsA()
    {
        var program = ReuseportCbpf.Program(4);
        Assert.Equal([(0x20, 0xFFFFF024u), (0x94, 4u), (0x16, 0u)], program.Select(i => ((int)i.Code, i.K)));
    }
}
