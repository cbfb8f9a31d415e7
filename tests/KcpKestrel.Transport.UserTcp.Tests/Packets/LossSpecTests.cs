using KcpKestrel.Transport.UserTcp.Packets;

namespace KcpKestrel.Transport.UserTcp.Tests.Packets;

/// <summary>The spec's <c>loss=P,seed=N</c> keys, which put a <see cref="LossyPacketSource"/> over the TUN device.</summary>
public sealed class LossSpecTests
{
    [Fact]
    public void LossAndSeed_AreParsedIntoTheImpairment()
    {
        var endPoint = UserTcpEndPoint.Parse("tun=ut0,address=10.77.0.1/24,port=8080,loss=0.02,seed=7");

        Assert.Equal(new LinkImpairment(0.02), endPoint.Impairment);
        Assert.Equal(7, endPoint.ImpairmentSeed);
        Assert.True(endPoint.Impairment.Active);
    }

    [Fact]
    public void WithoutLoss_NothingIsImpaired()
    {
        var endPoint = UserTcpEndPoint.Parse("tun=ut0,address=10.77.0.1/24,port=8080");

        Assert.False(endPoint.Impairment.Active);
        Assert.False(endPoint.WithPacketSource(new QueuePacketSource(1)).Impairment.Active);
    }

    [Theory]
    [InlineData("loss=2", "loss '2' is not a probability")]
    [InlineData("loss=-0.1", "loss '-0.1' is not a probability")]
    [InlineData("loss=lots", "loss 'lots' is not a probability")]
    [InlineData("loss=0.1,seed=x", "seed 'x' is not a whole number")]
    public void BadLossOrSeed_IsAClearError(string extra, string message)
    {
        var error = Assert.Throws<FormatException>(() => UserTcpEndPoint.Parse("tun=ut0,address=10.77.0.1/24,port=8080," + extra));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
