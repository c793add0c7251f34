package io.gyre.engine;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The build's version names the commit it was built from, so that the builds of one version can be told apart in a
 * journal's runs (an outside check could not tell which of three builds had written a journal).
 */
class BuildVersionTest
{
    @Test
    void shouldReadTheManifestsVersionAndCommitAndSayUnknownForACommitTheBuildCouldNotName()
    {
        assertThat(Engine.buildVersion("0.1.0-SNAPSHOT+1263bd7e")).isEqualTo("0.1.0-SNAPSHOT+1263bd7e");
        assertThat(Engine.buildVersion("0.1.0-SNAPSHOT+1263bd7e-dirty")).isEqualTo("0.1.0-SNAPSHOT+1263bd7e-dirty");
        // not built from a git checkout: the manifest keeps the property's placeholder
        assertThat(Engine.buildVersion("0.1.0-SNAPSHOT+${git.commit.id.describe}")).isEqualTo("0.1.0-SNAPSHOT+unknown");
        // classes, not a jar
        assertThat(Engine.buildVersion(null)).isEqualTo("0.1.0-SNAPSHOT");
    }
}
